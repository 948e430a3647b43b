/**
 * What the extension says when something fails, in the user's words: no errno names, no CLI
 * flags, and a way out that exists in VS Code ("Enter Token...", "choose VS Code server").
 * Decisions are made on error codes, handshake reasons and errno codes, never on message text;
 * only the fallback repeats a message. Pure, so every sentence is in a unit table test.
 */

import { BerthError, errorMessage, HandshakeReason } from '../protocol/errors';
import { formatHostPort } from '../protocol/host-port';
import { isObject, isString } from '../protocol/guards';
import { tokenRefusalReason } from '../protocol/token-refusal';

/** What the notification offers besides Show Log. */
export type ErrorAction =
	/** Ask for the token again and retry (a refused token). */
	| 'enterToken'
	/** Run the same thing again (the cause may pass). */
	| 'retry'
	/** Start Connect to Agent... over (the peer kind or address was wrong). */
	| 'connect'
	/**
	 * A new token: Sign In to Agent... or Connect with Init URL... (a user token that will never work
	 * again, or an agent that is not the pinned one).
	 */
	| 'signIn'
	/** Open the setting of the CA to trust (berth.tls.caFile). */
	| 'trustCa'
	/** Nothing to do here but read the log. */
	| 'none';

/** A sentence for the user and the one action that can help. */
export interface ErrorText {
	readonly message: string;
	readonly action: ErrorAction;
}

/** The agent an error is about: its URL for display (`ws://host:8765`) and its host and port. */
export interface AgentRef {
	readonly url: string;
	readonly host: string;
	readonly port: number;
	/** The client presented a signed user token (from an init URL): a refusal is about that token. */
	readonly userToken?: boolean;
}

/** Why a user token will never be accepted again: only a new one (signing in again) helps. */
export type TokenProblem = 'revoked' | 'expired';

/**
 * The token problem behind a refusal (BERTH_ERR_TOKEN_REVOKED), told apart by the agent's wire
 * reason (protocol/token-refusal.ts); undefined for any other error.
 */
export function tokenProblemOf(error: unknown): TokenProblem | undefined {
	if (!(error instanceof BerthError) || error.code !== 'BERTH_ERR_TOKEN_REVOKED') {
		return undefined;
	}
	return error.reason === tokenRefusalReason('expired') ? 'expired' : 'revoked';
}

/** What the panel row and the status bar say of a token problem. */
export function describeTokenProblem(problem: TokenProblem): string {
	return `Token ${problem}: sign in again`;
}

/** The notification for a token problem, at connect time or when a live session is cut. */
export function describeSignInNeeded(problem: TokenProblem, agentUrl: string, user?: string): string {
	return (
		`Your token for ${agentUrl}${user ? ` (${user})` : ''} ${problem === 'expired' ? 'has expired' : 'was revoked'}: ` +
		"sign in again, in the browser or with a new init URL from the agent's owner."
	);
}

/** The errno-style code of an error or of its causes (`ECONNREFUSED`, `EADDRINUSE`, …). */
export function errnoOf(error: unknown): string | undefined {
	for (let current = error, depth = 0; isObject(current) && depth < 5; depth++) {
		const code = current['code'];
		if (isString(code) && !code.startsWith('BERTH_ERR_')) {
			return code;
		}
		const errors = current['errors'];
		if (Array.isArray(errors) && errors.length > 0) {
			return errnoOf(errors[0]);
		}
		current = current['cause'];
	}
	return undefined;
}

/** Why an agent could not be reached at the socket level, by errno; undefined for an unknown one. */
function unreachable(errno: string | undefined, agent: AgentRef): string | undefined {
	const where = formatHostPort(agent.host, agent.port);
	switch (errno) {
		case 'ECONNREFUSED':
			return `Nothing is listening at ${where}. Is "berth server" running there?`;
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
		case 'EAI_NONAME':
			return `The host name ${agent.host} was not found. Check the agent's address.`;
		case 'ETIMEDOUT':
		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
		case 'EHOSTDOWN':
		case 'ENETDOWN':
			return `${where} cannot be reached from this machine. Check the address and the network.`;
		case 'ECONNRESET':
		case 'EPIPE':
			return `${where} closed the connection at once. Is this the address of a Berth agent or a VS Code server?`;
		default:
			return undefined;
	}
}

/** Certificate checks that fail on the name the agent was reached by (Node's and OpenSSL's codes). */
const NAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
/** Certificate checks that fail on dates: the certificate's, or a clock. */
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/**
 * The commonest certificate failures, should one arrive unwrapped (the client library makes them
 * BERTH_ERR_TLS_UNTRUSTED): they are no reason to retry either.
 */
const UNWRAPPED_CERTIFICATE_CODES = new Set([
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	...NAME_MISMATCH,
	...OUT_OF_DATE,
]);

/**
 * The agent's TLS certificate failed verification (BERTH_ERR_TLS_UNTRUSTED, permanent: retrying
 * meets the same certificate), by the check that failed (the cause's code). The way out is in
 * VS Code's terms: the CA setting, or another address; never a CLI flag.
 */
function untrustedCertificate(errno: string | undefined, agent: AgentRef): ErrorText {
	const where = formatHostPort(agent.host, agent.port);
	if (errno !== undefined && NAME_MISMATCH.has(errno)) {
		return {
			message: `The TLS certificate of ${where} is not valid for the name ${agent.host}. Connect by a name the certificate lists.`,
			action: 'none',
		};
	}
	if (errno !== undefined && OUT_OF_DATE.has(errno)) {
		return {
			message: `The TLS certificate of ${where} is out of its dates (expired, or not valid yet). Check this machine's clock, or ask the agent's owner to renew it.`,
			action: 'none',
		};
	}
	return {
		message: `This machine does not trust the TLS certificate of ${where}. If a private CA signed it, set Berth's CA file (berth.tls.caFile) to that CA.`,
		action: 'trustCa',
	};
}

/** A refusal in the handshake, by VS Code's reason string (a wire code, not prose). */
function refused(reason: string | undefined, agent: AgentRef): ErrorText {
	if (
		reason === HandshakeReason.AuthMismatch ||
		(reason === HandshakeReason.Unauthorized && !agent.userToken)
	) {
		return { message: `The agent at ${agent.url} refused the connection token.`, action: 'enterToken' };
	}
	if (reason?.startsWith(HandshakeReason.TooManyAttempts)) {
		const wait = /try again in (\d+) s/.exec(reason)?.[1];
		return {
			message:
				`The agent at ${agent.url} refused: too many wrong tokens came from this address. ` +
				`Try again${wait ? ` in ${wait} s` : ' in a few seconds'}.`,
			action: 'retry',
		};
	}
	if (agent.userToken && reason?.startsWith(HandshakeReason.Unauthorized)) {
		// An agent with accounts says why after VS Code's words (protocol/token-refusal.ts): shown, not parsed.
		const why = reason.slice(HandshakeReason.Unauthorized.length).replace(/^: /, '');
		return {
			message: `The agent at ${agent.url} refused your token${why ? ` (${why})` : ''}. Sign in again.`,
			action: 'signIn',
		};
	}
	if (reason === HandshakeReason.VersionMismatch) {
		return {
			message: `The VS Code server at ${agent.url} was updated while connecting. Try again.`,
			action: 'retry',
		};
	}
	if (
		reason === HandshakeReason.UnknownReconnectionTokenNeverSeen ||
		reason === HandshakeReason.UnknownReconnectionTokenSeenBefore
	) {
		return {
			message: `The agent at ${agent.url} restarted and no longer knows this session.`,
			action: 'retry',
		};
	}
	return {
		message: `The agent at ${agent.url} refused the connection (${reason ?? 'no reason given'}).`,
		action: 'none',
	};
}

/** Connecting to an agent failed (Connect to Agent..., a restore, a retry). */
export function describeConnectError(error: unknown, agent: AgentRef): ErrorText {
	const where = formatHostPort(agent.host, agent.port);
	const code = error instanceof BerthError ? error.code : undefined;
	switch (code) {
		case 'BERTH_ERR_HANDSHAKE_REFUSED':
			return refused((error as BerthError).reason, agent);
		case 'BERTH_ERR_TOKEN_REVOKED':
			return { message: describeSignInNeeded(tokenProblemOf(error)!, agent.url), action: 'signIn' };
		case 'BERTH_ERR_TLS_UNTRUSTED':
			return untrustedCertificate(errnoOf(error), agent);
		case 'BERTH_ERR_SERVER_UNVERIFIED':
			if (agent.userToken) {
				// A user token's agent proves itself by the key its sign-in pinned: this one could not.
				return {
					message:
						`The agent at ${agent.url} is not the one you signed in to: it could not prove it holds ` +
						'the pinned key (another agent, or one that was reinstalled). If you trust it, sign in to it again.',
					action: 'signIn',
				};
			}
			return {
				message:
					`The agent at ${agent.url} did not prove it knows the token: is this a VS Code server? ` +
					'Choose VS Code server when connecting.',
				action: 'connect',
			};
		case 'BERTH_ERR_TIMEOUT':
		case 'BERTH_ERR_HANDSHAKE_TIMEOUT':
			return {
				message: `${where} did not answer in time. Is it a Berth agent or a VS Code server, and is the network up?`,
				action: 'retry',
			};
		case 'BERTH_ERR_PROTOCOL':
			return {
				message: `${where} does not answer as a Berth agent or a VS Code server does. Check the address.`,
				action: 'connect',
			};
		case 'BERTH_ERR_CLOSED':
			return { message: `The connection to ${agent.url} closed before it was ready.`, action: 'retry' };
		default: {
			const errno = errnoOf(error);
			if (errno !== undefined && UNWRAPPED_CERTIFICATE_CODES.has(errno)) {
				return untrustedCertificate(errno, agent);
			}
			const sentence = unreachable(errno, agent);
			if (sentence) {
				return { message: sentence, action: 'retry' };
			}
			return {
				message: `Could not connect to ${agent.url}: ${withoutPrefix(error, agent.url)}`,
				action: 'retry',
			};
		}
	}
}

/** What a forward was asked for: the local address it listens on and the target it reaches. */
export interface ForwardRef {
	readonly bindHost: string;
	readonly bindPort: number;
	readonly target: string;
}

/** Opening a forward failed (listen here, or the agent refused the target or the bind). */
export function describeForwardError(error: unknown, forward: ForwardRef): ErrorText {
	const local =
		forward.bindPort === 0 ? forward.bindHost : formatHostPort(forward.bindHost, forward.bindPort);
	if (
		error instanceof BerthError &&
		(error.code === 'BERTH_ERR_POLICY' || error.reason === 'BERTH_ERR_POLICY')
	) {
		return { message: `The agent's rules do not allow forwarding to ${forward.target}.`, action: 'none' };
	}
	if (error instanceof BerthError && error.code === 'BERTH_ERR_CLOSED') {
		return { message: 'The connection to the agent is down. Try again once it is back.', action: 'retry' };
	}
	if (error instanceof BerthError && error.code === 'BERTH_ERR_LOOP') {
		// The client library's reason names the forward it would reach; the sentence says it is refused.
		return {
			message: `Berth did not forward ${forward.target}: ${error.message}.`,
			action: 'none',
		};
	}
	switch (errnoOf(error)) {
		case 'EADDRINUSE':
			return {
				message: `Port ${forward.bindPort} is already in use on ${forward.bindHost}. Choose another local port.`,
				action: 'none',
			};
		case 'EACCES':
			return {
				message: `Listening on ${local} is not allowed here (ports below 1024 need administrator rights).`,
				action: 'none',
			};
		case 'EADDRNOTAVAIL':
			return {
				message: `There is no address ${forward.bindHost} to listen on. Check the Local Address setting (berth.localAddress).`,
				action: 'none',
			};
		default:
			return { message: `Could not forward ${forward.target}: ${errorMessage(error)}`, action: 'retry' };
	}
}

/**
 * One forwarded connection failed to reach its target: the words that came with it (`connect
 * ECONNREFUSED 127.0.0.1:5432`) as a sentence. The errno is read from the text: for a local
 * forward it is all the wire carries. `side` says where the target is: from the agent (a local
 * forward), or from this machine (a reverse forward).
 */
export function describeForwardFailure(
	message: string,
	target: string,
	side: 'agent' | 'here' = 'agent',
): string {
	const errno = /\b(E[A-Z]{3,}|EAI_[A-Z]+)\b/.exec(message)?.[1];
	const who = side === 'agent' ? 'The agent' : 'This machine';
	switch (errno) {
		case 'ECONNREFUSED':
			return `Nothing is listening on ${target} ${side === 'agent' ? "on the agent's side" : 'on this machine'}.`;
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
			return `${who} cannot find the host of ${target}.`;
		case 'ETIMEDOUT':
		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
			return `${who} cannot reach ${target}.`;
		case 'ECONNRESET':
			return `${target} closed the connection.`;
		default:
			return `${who} could not reach ${target}: ${message}`;
	}
}

/** How the agent process ended when nobody asked it to. */
export interface AgentExitInfo {
	readonly code: number | null;
	readonly signal: string | null;
}

/** The agent CLI's exit code for "no listening port could be opened" (server/cli/exit-codes.ts). */
const EXIT_LISTEN = 5;

/** Why tunnel access stopped on its own, without "exited unexpectedly (code 0)". */
export function describeAgentExit(exit: AgentExitInfo): string {
	if (exit.signal) {
		return `Tunnel access stopped: the agent was ended from outside VS Code (${exit.signal}).`;
	}
	if (exit.code === 0) {
		return 'Tunnel access stopped: the agent shut down on its own.';
	}
	if (exit.code === EXIT_LISTEN) {
		return 'Tunnel access stopped: the agent lost its listening port.';
	}
	return `Tunnel access stopped: the agent failed (exit code ${exit.code ?? '?'}). The log has its last words.`;
}

/** Turning tunnel access on failed. */
export function describeTunnelStartError(error: unknown, host: string, port: number): ErrorText {
	switch (errnoOf(error)) {
		case 'EADDRINUSE':
			return {
				message: `Port ${port} is in use on this machine. Choose another port in the Tunnel Port setting (berth.tunnel.port).`,
				action: 'none',
			};
		case 'EACCES':
			return {
				message: `Listening on port ${port} is not allowed here (ports below 1024 need administrator rights).`,
				action: 'none',
			};
		case 'EADDRNOTAVAIL':
			return {
				message: `This machine has no address ${host}. Check the Tunnel Host setting (berth.tunnel.host).`,
				action: 'none',
			};
		default:
			return { message: `Tunnel access could not be turned on: ${errorMessage(error)}`, action: 'retry' };
	}
}

/** The message without a leading copy of the URL (client errors start with it). */
function withoutPrefix(error: unknown, url: string): string {
	const message = errorMessage(error);
	return message.startsWith(`${url} `) ? message.slice(url.length + 1) : message;
}
