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
} from '../../protocol/wire';
import type { AuthAttempts } from '../auth-throttle';
import { tokenAccepts, type ConnectionToken } from '../connection-token';
import type { ConnectionOutcome, ConnectionTypeRegistry, HandshakeReply } from './connection-types';
import { ControlReader } from '../shared/control-reader';
import { sign, verifySignature } from '../shared/sign';

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
	/** Called once the client proved it knows the token (other clients' grace is shortened). */
	readonly onAuthenticated: () => void;
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
	const store = new DisposableStore();
	// Nothing but Control messages (and empty KeepAlive/Ack) belongs in a handshake: bound them all,
	// and bound `auth` to what it needs, so a peer that proved nothing holds little memory.
	const control = new ControlReader(transport, initial, {
		maxControlBytes: MAX_PREAUTH_CONTROL_MESSAGE_BYTES,
		maxMessageBytes: HEADER_BYTES,
	});
	store.add(
		options.timers.interval(
			() => transport.write([encodeMessage(MessageType.KeepAlive, 0, 0)]),
			KEEPALIVE_MS,
		),
	);
	store.add(
		options.timers.timeout(
			() =>
				control.fail(
					new BerthError(
						'BERTH_ERR_HANDSHAKE_TIMEOUT',
						`handshake not finished within ${options.deadlineMs} ms`,
					),
				),
			options.deadlineMs,
		),
	);
	let connectionType = 'unknown';
	const refuse = (reason: string): HandshakeResult => {
		store.dispose();
		control.detach();
		rejectAndClose(transport, reason, options.timers);
		return { connectionType, outcome: { type: 'refused', reason } };
	};

	try {
		const auth = parseAuthRequest(await control.next());
		if ('error' in auth) {
			return refuse(auth.error);
		}
		const proofOnly = auth.auth === TOKEN_PROOF_AUTH && options.token.type === 'mandatory';
		const authRefusal = proofOnly ? throttled(options) : checkAuth(auth.auth, options);
		if (authRefusal !== undefined) {
			return refuse(authRefusal);
		}
		const acceptToken = (): void => {
			// The client holds the token: its messages may be as long as any Control message.
			control.setLimits({ maxControlBytes: MAX_CONTROL_MESSAGE_BYTES, maxMessageBytes: HEADER_BYTES });
			options.onTokenAccepted?.();
		};
		if (!proofOnly) {
			acceptToken();
		}
		const challenge = randomUUID();
		// A client proving its token gets the agent's proof only after its own (in `ok`).
		const proof = options.token.type === 'mandatory' ? sign(options.token.value, auth.data) : randomUUID();
		const signedData = proofOnly ? '' : proof;
		transport.write([encodeControl({ type: 'sign', data: challenge, signedData })]);

		const request = parseConnectionTypeRequest(await control.next());
		if ('error' in request) {
			return refuse(request.error);
		}
		connectionType = options.registry.nameOf(request.desiredConnectionType);
		if (request.commit !== undefined && request.commit !== options.commit) {
			return refuse(HandshakeReason.VersionMismatch);
		}
		if (
			options.token.type === 'mandatory' &&
			!verifySignature(options.token.value, challenge, request.signedData)
		) {
			if (proofOnly) {
				options.attempts?.recordFailure(); // a wrong token, proved wrong without being sent
				return refuse(HandshakeReason.AuthMismatch);
			}
			return refuse(HandshakeReason.Unauthorized);
		}
		if (proofOnly) {
			acceptToken();
		}
		options.onAuthenticated();
		const handler = options.registry.get(request.desiredConnectionType);
		if (!handler) {
			return refuse(HandshakeReason.UnknownInitialData);
		}
		store.dispose();
		const leftover = control.detach();
		let answered = false;
		const reply: HandshakeReply = {
			ok: () => {
				answered = true;
				transport.write([encodeControl(proofOnly ? { type: 'ok', signedData: proof } : { type: 'ok' })]);
			},
			refuse: (reason) => {
				answered = true;
				rejectAndClose(transport, reason, options.timers);
				return { type: 'refused', reason };
			},
		};
		try {
			const outcome = await handler.accept(
				{
					transport,
					leftover,
					args: request.args,
					reconnectionToken: query.reconnectionToken,
					isReconnection: query.reconnection,
					remoteAddress: transport.remoteAddress,
				},
				reply,
			);
			return { connectionType, outcome };
		} catch (error) {
			if (!answered) {
				reply.refuse(`internal error: ${errorMessage(error)}`);
			} else {
				transport.dispose();
			}
			return {
				connectionType,
				outcome: { type: 'refused', reason: `internal error: ${errorMessage(error)}` },
			};
		}
	} catch (error) {
		// Closed, timed out or bad bytes: there is nobody to answer in words.
		store.dispose();
		control.detach();
		transport.dispose();
		return { connectionType, outcome: { type: 'refused', reason: errorMessage(error) } };
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

/** Sends `{type:"error", reason}`, then closes: FIN after the bytes, destroyed soon after regardless. */
export function rejectAndClose(transport: Transport, reason: string, timers: Timers): void {
	transport.write([encodeControl({ type: 'error', reason })]);
	transport.end();
	transport.resume(); // read (and drop) until the peer's FIN, so the socket can close early
	const linger = timers.timeout(() => transport.dispose(), REFUSAL_LINGER_MS);
	const closed = transport.onDidClose(() => {
		linger.dispose();
		closed.dispose();
	});
}
