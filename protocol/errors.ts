/**
 * Berth's error type and the one table of VS Code's handshake refusal reasons. Codes are stable
 * strings (`BERTH_ERR_…`) that callers switch on; messages say what failed and what to do.
 */

/** VS Code's exact `reason` strings for a refused handshake (remoteExtensionHostAgentServer.ts). */
export const HandshakeReason = {
	MalformedFirstMessage: 'Malformed first message',
	InvalidFirstMessage: 'Invalid first message',
	AuthMismatch: 'Unauthorized client refused: auth mismatch',
	MalformedSecondMessage: 'Malformed second message',
	InvalidSecondMessage: 'Invalid second message',
	InvalidSecondMessageFieldType: 'Invalid second message field type',
	VersionMismatch: 'Client refused: version mismatch',
	Unauthorized: 'Unauthorized client refused',
	UnknownInitialData: 'Unknown initial data received',
	DuplicateReconnectionToken: 'Duplicate reconnection token',
	UnknownReconnectionTokenNeverSeen: 'Unknown reconnection token (never seen)',
	UnknownReconnectionTokenSeenBefore: 'Unknown reconnection token (seen before)',
	// Berth's own, for what VS Code's server does not refuse in words.
	ExtensionHostUnsupported:
		'Connection type 2 (ExtensionHost) is not supported: a Berth agent forwards ports and does not run extensions',
	/** Followed by `; try again in N s`. */
	TooManyAttempts: 'Unauthorized client refused: too many wrong tokens from this address',
} as const;
export type HandshakeReason = (typeof HandshakeReason)[keyof typeof HandshakeReason];

/** Client-side handshake failures, VS Code's words where it has them. */
export const ClientHandshakeReason = {
	UnexpectedMessage: 'Unexpected handshake message',
	UnsupportedServer: 'Refused to connect to unsupported server',
} as const;

export type ErrorCode =
	| 'BERTH_ERR_PROTOCOL' // malformed bytes or a message over its bound
	| 'BERTH_ERR_HANDSHAKE_REFUSED' // the peer answered `{type:"error"}`: permanent
	| 'BERTH_ERR_HANDSHAKE_TIMEOUT'
	| 'BERTH_ERR_SERVER_UNVERIFIED' // the server could not prove it knows the token, or its key is not the pinned one
	| 'BERTH_ERR_TOKEN_REVOKED' // the agent refused a user token that will never work again (revoked or expired)
	| 'BERTH_ERR_TLS_UNTRUSTED' // the agent's TLS certificate failed verification (untrusted, wrong name, expired)
	| 'BERTH_ERR_CONNECT' // the socket could not be opened or the upgrade failed
	| 'BERTH_ERR_CLOSED' // the connection or session ended
	| 'BERTH_ERR_TIMEOUT'
	| 'BERTH_ERR_RPC' // the peer answered a request with an error
	| 'BERTH_ERR_RPC_UNKNOWN_METHOD' // the peer does not serve the method (an older or other peer)
	| 'BERTH_ERR_USAGE' // bad command line or configuration
	| 'BERTH_ERR_LISTEN' // a listening socket could not be opened (port in use, no permission)
	| 'BERTH_ERR_TOKEN' // a connection token that breaks the rules
	| 'BERTH_ERR_LIMIT' // a bound was reached (streams per session, sessions, queue sizes)
	| 'BERTH_ERR_POLICY' // the agent's --allow/--deny policy forbids the target
	| 'BERTH_ERR_LOOP' // a forward would reach its own listener, or another forward's of the same client
	| 'BERTH_ERR_STORE' // the token database cannot be opened (in use, not a database, newer schema) or written
	| 'BERTH_ERR_SSH' // berth ssh: ssh could not reach or log in to the host, or the host's side failed
	| 'BERTH_ERR_NO_NODE' // berth ssh: the host has no Node.js the agent can run on
	| 'BERTH_ERR_INTERNAL'; // a bug: an exception where none was expected, or an API used out of order

/** An error with a stable code and, where one applies, the wire reason that caused it. */
export class BerthError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
		readonly reason?: string,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.name = 'BerthError';
	}

	/** True when retrying cannot help: the peer refused in words, or the server is not who it claims. */
	get isPermanent(): boolean {
		return (
			this.code === 'BERTH_ERR_HANDSHAKE_REFUSED' ||
			this.code === 'BERTH_ERR_SERVER_UNVERIFIED' ||
			this.code === 'BERTH_ERR_TOKEN_REVOKED' ||
			this.code === 'BERTH_ERR_TLS_UNTRUSTED' ||
			this.code === 'BERTH_ERR_USAGE' ||
			this.code === 'BERTH_ERR_TOKEN' ||
			this.code === 'BERTH_ERR_NO_NODE'
		);
	}
}

/** Narrows an unknown thrown value to a message, for logs. */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** For exhaustive switches: a compile error when a case is missing, a throw if one arrives anyway. */
export function assertNever(value: never, what = 'value'): never {
	throw new BerthError('BERTH_ERR_PROTOCOL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
