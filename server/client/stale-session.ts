import { BerthError, HandshakeReason } from '../../protocol/errors';

/** Refusals of a reconnection that a new session cures: the agent no longer knows the old one. */
const STALE_SESSION_REASONS: ReadonlySet<string> = new Set([
	HandshakeReason.UnknownReconnectionTokenNeverSeen,
	HandshakeReason.UnknownReconnectionTokenSeenBefore,
]);

/** Whether `error` refused a reconnection because the agent no longer knows the session. */
export function isStaleSession(error: unknown): error is BerthError {
	return error instanceof BerthError && error.reason !== undefined && STALE_SESSION_REASONS.has(error.reason);
}

/**
 * Why a session's connections were lost, in words for the user: the agent never saw the token
 * (it restarted), or it had ended the session (its grace ran out, or it was cut).
 */
export function staleSessionMessage(error: BerthError): string {
	return error.reason === HandshakeReason.UnknownReconnectionTokenNeverSeen
		? 'the agent restarted; connections were lost'
		: 'the agent had ended this session (its grace time ran out); connections were lost';
}
