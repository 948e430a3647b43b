import { randomUUID } from 'node:crypto';
import {
	HEADER_BYTES,
	KEEPALIVE_MS,
	MAX_CONTROL_MESSAGE_BYTES,
	MAX_PREAUTH_CONTROL_MESSAGE_BYTES,
	TOKEN_PROOF_AUTH,
} from '../../protocol/constants';
import { BerthError, HandshakeReason, errorMessage } from '../../protocol/errors';
import { DisposableStore } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';
import {
	encodeControl,
	encodeMessage,
	MessageType,
	parseAuthRequest,
	parseConnectionTypeRequest,
	type ConnectionTypeRequest,
} from '../../protocol/wire';
import type { AuthAttempts } from '../auth-throttle';
import { tokenAccepts, type ConnectionToken } from '../connection-token';
import {
	connectorTokenOf,
	type ConnectionOutcome,
	type ConnectionTypeHandler,
	type ConnectionTypeRegistry,
	type HandshakeReply,
	type Principal,
} from './connection-types';
import { ControlReader } from '../shared/control-reader';
import { sign, verifySignature } from '../shared/sign';
import type { ConnectorTokens } from '../connector-tokens';
import type { AgentKey } from '../auth/agent-key';
import type { BearerVerdict, BearerVerifier } from '../auth/bearer-verifier';
import { tokenRefusalReason, type TokenRefusal } from '../../protocol/token-refusal';

/** The agent's owner: whoever proved the connection token. */
const OWNER: Principal = { role: 'owner' };

/** How long a refused connection may take to read its error before it is destroyed. */
const REFUSAL_LINGER_MS = 2_000;

export interface UpgradeQuery {
	readonly reconnectionToken: string;
	readonly reconnection: boolean;
	readonly skipWebSocketFrames: boolean;
}

export interface ServerHandshakeOptions {
	readonly token: ConnectionToken;
	/** The agent's commit; a client that sends a different one is refused. */
	readonly commit: string;
	readonly registry: ConnectionTypeRegistry;
	readonly timers: Timers;
	/** Time left for the whole handshake. */
	readonly deadlineMs: number;
	/** Token guessing from this connection's source address (none: no throttle). */
	readonly attempts?: AuthAttempts;
	/** Called once the `auth` message's token is accepted: the transport's own bounds may rise now. */
	readonly onTokenAccepted?: () => void;
	/** Called once the client proved it knows a token: the connection token (other clients' grace is shortened) or a connector's. */
	readonly onAuthenticated: (principal: Principal) => void;
	/** Relay mode's connector tokens: a client proving one of them is a connector. */
	readonly connectorTokens?: ConnectorTokens;
	/** User tokens (`--accounts`) or dev mode: a client whose `auth` is one of them is a user. */
	readonly bearer?: BearerVerifier;
	/** The agent's own key, with which it signs a user's challenge (a user token proves nothing of the agent). */
	readonly agentKey?: AgentKey;
	/** A user token was refused: for the log line, which names why and the token's id, never the token. */
	readonly onTokenRefused?: (why: string, tokenId: string | undefined) => void;
}

export interface HandshakeResult {
	readonly connectionType: string;
	readonly outcome: ConnectionOutcome;
}

/**
 * The agent's side of VS Code's handshake, on a freshly upgraded connection:
 *
 *     client → {type:"auth", auth, data}
 *     agent  → {type:"sign", data: <challenge>, signedData: sign(token, client's data)}
 *     client → {type:"connectionType", desiredConnectionType, signedData: sign(token, challenge), commit?, args?}
 *     agent  → {type:"ok"} or {type:"error", reason}, then the connection type takes over
 *
 * `auth` is the token itself (VS Code's clients: checked at once), or TOKEN_PROOF_AUTH (Berth's
 * clients: the token never crosses the wire; the client's signature in `connectionType` proves it,
 * and until then the pre-authentication bounds stay; the agent's own proof, its signature of the
 * client's challenge, comes last, in `ok`). Refusals use VS Code's exact
 * reason strings, in VS Code's order of checks. KeepAlive goes out every 5 s meanwhile, as VS
 * Code's server does. The whole exchange must end within `deadlineMs`.
 */
export async function runServerHandshake(
	transport: Transport,
	initial: readonly Uint8Array[],
	query: UpgradeQuery,
	options: ServerHandshakeOptions,
): Promise<HandshakeResult> {
	const handshake = new ServerHandshake(transport, initial, options);
	try {
		const auth = await handshake.readAuth();
		if ('refused' in auth) {
			return auth.refused;
		}
		const request = await handshake.readConnectionType(auth);
		if ('refused' in request) {
			return request.refused;
		}
		return await handshake.handOver(request, query);
	} catch (error) {
		// Closed, timed out or bad bytes: there is nobody to answer in words.
		return handshake.drop(error);
	}
}

/** What `auth` left for the next step. */
interface AcceptedAuth {
	/** A user (a bearer token verified in `auth`): nothing left to prove in `connectionType`. */
	readonly user?: Principal;
	/** The client proves its token by signature (TOKEN_PROOF_AUTH), not by sending it. */
	readonly proofOnly: boolean;
	/** The challenge sent in `sign`, which the client must sign. */
	readonly challenge: string;
	/** The agent's signature of the client's challenge (sent in `sign`, or in `ok` to a proving client). */
	readonly proof: string;
	/** The client's challenge: a connector's is signed with its own token once it is known. */
	readonly clientChallenge: string;
}

/** A `connectionType` request that passed every check, and how to answer it. */
interface AcceptedRequest {
	readonly request: ConnectionTypeRequest;
	readonly auth: AcceptedAuth;
	readonly principal: Principal;
}

type Step<T> = T | { readonly refused: HandshakeResult };

/** One handshake in progress: its reader, its timers, and its refusals. */
class ServerHandshake {
	private readonly store = new DisposableStore();
	private readonly control: ControlReader;
	private connectionType = 'unknown';

	constructor(
		private readonly transport: Transport,
		initial: readonly Uint8Array[],
		private readonly options: ServerHandshakeOptions,
	) {
		// Nothing but Control messages (and empty KeepAlive/Ack) belongs in a handshake: bound them
		// all, and bound `auth` to what it needs, so a peer that proved nothing holds little memory.
		this.control = new ControlReader(transport, initial, {
			maxControlBytes: MAX_PREAUTH_CONTROL_MESSAGE_BYTES,
			maxMessageBytes: HEADER_BYTES,
		});
		const keepAlive = () => transport.write([encodeMessage(MessageType.KeepAlive, 0, 0)]);
		this.store.add(options.timers.interval(keepAlive, KEEPALIVE_MS));
		// The error is built when the deadline passes, not up front: its stack trace cost tens of µs
		// on every handshake (resumes included) in the bench's profile, and almost none time out.
		const onDeadline = () =>
			this.control.fail(
				new BerthError(
					'BERTH_ERR_HANDSHAKE_TIMEOUT',
					`handshake not finished within ${options.deadlineMs} ms`,
				),
			);
		this.store.add(options.timers.timeout(onDeadline, options.deadlineMs));
	}

	/** `auth`: the token (checked now), or TOKEN_PROOF_AUTH (checked in `connectionType`); then `sign`. */
	async readAuth(): Promise<Step<AcceptedAuth>> {
		const auth = parseAuthRequest(await this.control.next());
		if ('error' in auth) {
			return this.refuse(auth.error);
		}
		const verdict = this.options.bearer?.verify(auth.auth);
		if (verdict) {
			return this.readBearer(await verdict, auth.data);
		}
		const token = this.options.token;
		const proofOnly = auth.auth === TOKEN_PROOF_AUTH && token.type === 'mandatory';
		const refusal = proofOnly ? throttled(this.options) : checkAuth(auth.auth, this.options);
		if (refusal !== undefined) {
			return this.refuse(refusal);
		}
		if (!proofOnly) {
			this.acceptToken();
		}
		const challenge = randomUUID();
		const proof = token.type === 'mandatory' ? sign(token.value, auth.data) : randomUUID();
		// A client proving its token gets the agent's proof only after its own (in `ok`).
		const signedData = proofOnly ? '' : proof;
		this.transport.write([encodeControl({ type: 'sign', data: challenge, signedData })]);
		return { proofOnly, challenge, proof, clientChallenge: auth.data };
	}

	/**
	 * A user token (or dev mode's credential), verified: refused with VS Code's unauthorized answer
	 * and a code that says why, or answered with `sign`, whose `signedData` is the agent key's
	 * signature of the client's challenge (and `key` that key), since a bearer token proves nothing
	 * of the agent.
	 */
	private readBearer(verdict: BearerVerdict, clientChallenge: string): Step<AcceptedAuth> {
		const refusal = throttled(this.options);
		if (refusal !== undefined) {
			return this.refuse(refusal);
		}
		if (verdict.type === 'refused') {
			this.options.attempts?.recordFailure();
			this.options.onTokenRefused?.(verdict.why, verdict.tokenId);
			return this.refuse(tokenRefusalReason(verdict.why), verdict.why);
		}
		this.acceptToken();
		const user: Principal = { role: 'user', user: verdict.user };
		const challenge = randomUUID();
		const key = this.options.agentKey;
		const signedData = key ? key.sign(clientChallenge) : '';
		this.transport.write([
			encodeControl({ type: 'sign', data: challenge, signedData, ...(key ? { key: key.publicKey } : {}) }),
		]);
		return { user, proofOnly: false, challenge, proof: '', clientChallenge };
	}

	/** `connectionType`, in VS Code's order: the commit, then the client's signature. */
	async readConnectionType(auth: AcceptedAuth): Promise<Step<AcceptedRequest>> {
		const request = parseConnectionTypeRequest(await this.control.next());
		if ('error' in request) {
			return this.refuse(request.error);
		}
		this.connectionType = this.options.registry.nameOf(request.desiredConnectionType);
		if (request.commit !== undefined && request.commit !== this.options.commit) {
			return this.refuse(HandshakeReason.VersionMismatch);
		}
		if (auth.user) {
			this.options.onAuthenticated(auth.user);
			return { request, auth, principal: auth.user };
		}
		const token = this.options.token;
		if (token.type === 'mandatory' && !verifySignature(token.value, auth.challenge, request.signedData)) {
			const connector = auth.proofOnly
				? this.options.connectorTokens?.match(auth.challenge, request.signedData)
				: undefined;
			if (connector) {
				// A connector: the agent proves it knows that token, not the agent's.
				this.acceptToken();
				const principal: Principal = { role: 'connector', tokenId: connector.id };
				this.options.onAuthenticated(principal);
				const proof = sign(connector.value, auth.clientChallenge);
				return { request, auth: { ...auth, proof }, principal };
			}
			if (!auth.proofOnly) {
				return this.refuse(HandshakeReason.Unauthorized);
			}
			this.options.attempts?.recordFailure(); // a wrong token, proved wrong without being sent
			return this.refuse(HandshakeReason.AuthMismatch);
		}
		if (auth.proofOnly) {
			this.acceptToken();
		}
		this.options.onAuthenticated(OWNER);
		return { request, auth, principal: OWNER };
	}

	/** Hands the connection to its type, which answers `ok` (with the agent's proof, when owed) or an error. */
	async handOver(
		{ request, auth, principal }: AcceptedRequest,
		query: UpgradeQuery,
	): Promise<HandshakeResult> {
		const handler = this.options.registry.get(request.desiredConnectionType);
		if (!handler) {
			return this.refuse(HandshakeReason.UnknownInitialData).refused;
		}
		const forbidden = principalRefusal(principal, handler, this.connectionType);
		if (forbidden !== undefined) {
			return this.refuse(forbidden).refused;
		}
		this.store.dispose();
		const leftover = this.control.detach();
		const { transport, options } = this;
		let answered = false;
		const reply: HandshakeReply = {
			ok: () => {
				answered = true;
				const ok = auth.proofOnly ? { type: 'ok' as const, signedData: auth.proof } : { type: 'ok' as const };
				transport.write([encodeControl(ok)]);
			},
			refuse: (reason) => {
				answered = true;
				rejectAndClose(transport, reason, options.timers);
				return { type: 'refused', reason };
			},
		};
		const connection = {
			transport,
			leftover,
			args: request.args,
			reconnectionToken: query.reconnectionToken,
			isReconnection: query.reconnection,
			remoteAddress: transport.remoteAddress,
			principal,
		};
		try {
			return { connectionType: this.connectionType, outcome: await handler.accept(connection, reply) };
		} catch (error) {
			const reason = `internal error: ${errorMessage(error)}`;
			if (!answered) {
				reply.refuse(reason);
			} else {
				transport.dispose();
			}
			return { connectionType: this.connectionType, outcome: { type: 'refused', reason } };
		}
	}

	/** The connection closed, timed out or sent bad bytes: nobody to answer in words. */
	drop(error: unknown): HandshakeResult {
		this.store.dispose();
		this.control.detach();
		this.transport.dispose();
		return { connectionType: this.connectionType, outcome: { type: 'refused', reason: errorMessage(error) } };
	}

	/** The client holds the token: its messages may be as long as any Control message. */
	private acceptToken(): void {
		this.control.setLimits({ maxControlBytes: MAX_CONTROL_MESSAGE_BYTES, maxMessageBytes: HEADER_BYTES });
		this.options.onTokenAccepted?.();
	}

	private refuse(reason: string, code?: TokenRefusal): { readonly refused: HandshakeResult } {
		this.store.dispose();
		this.control.detach();
		rejectAndClose(this.transport, reason, this.options.timers, code);
		return { refused: { connectionType: this.connectionType, outcome: { type: 'refused', reason } } };
	}
}

/**
 * The `auth` message's token check: a source that guessed too often is refused before its token
 * is compared (so guessing stops paying off); a wrong token counts against its source.
 */
function checkAuth(candidate: string, options: ServerHandshakeOptions): string | undefined {
	if (options.token.type !== 'mandatory') {
		return undefined;
	}
	const refusal = throttled(options);
	if (refusal !== undefined) {
		return refusal;
	}
	if (!tokenAccepts(options.token, candidate)) {
		options.attempts?.recordFailure();
		return HandshakeReason.AuthMismatch;
	}
	return undefined;
}

/** The refusal for a source that guessed wrong too often (it waits before any token is compared). */
function throttled(options: ServerHandshakeOptions): string | undefined {
	const retryAfterMs = options.attempts?.retryAfterMs() ?? 0;
	return retryAfterMs > 0
		? `${HandshakeReason.TooManyAttempts}; try again in ${Math.ceil(retryAfterMs / 1000)} s`
		: undefined;
}

/**
 * Why `principal` may not open `handler`'s connections, or undefined when it may: a connector
 * (token or user) opens proxy streams only; a user opens Berth's stream and Management sessions,
 * not VS Code's Tunnel connections (which carry no principal) or extension hosts.
 */
function principalRefusal(
	principal: Principal,
	handler: ConnectionTypeHandler,
	name: string,
): string | undefined {
	if (connectorTokenOf(principal) !== undefined && !handler.acceptsConnectors) {
		return `A connector token opens proxy streams only (berth connector), not ${name} connections`;
	}
	if (principal.role === 'user' && !handler.acceptsUsers) {
		return `A user token opens Berth's stream and status sessions only, not ${name} connections: use the connection token`;
	}
	return undefined;
}

/** Sends `{type:"error", reason}`, then closes: FIN after the bytes, destroyed soon after regardless. */
export function rejectAndClose(
	transport: Transport,
	reason: string,
	timers: Timers,
	code?: TokenRefusal,
): void {
	transport.write([encodeControl({ type: 'error', reason, ...(code ? { code } : {}) })]);
	transport.end();
	transport.resume(); // read (and drop) until the peer's FIN, so the socket can close early
	const linger = timers.timeout(() => transport.dispose(), REFUSAL_LINGER_MS);
	const closed = transport.onDidClose(() => {
		linger.dispose();
		closed.dispose();
	});
}
