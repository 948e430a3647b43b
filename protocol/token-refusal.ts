import { HandshakeReason } from './errors';

/**
 * Why an agent refused a user token: sent as the handshake error's `code` (so clients act on it,
 * not on the words), and named in the agent's log line with the token's id.
 */
export const TOKEN_REFUSALS = [
	'malformed',
	'bad-signature',
	'not-yet-valid',
	'expired',
	'unknown',
	'revoked',
] as const;
export type TokenRefusal = (typeof TOKEN_REFUSALS)[number];

export function isTokenRefusal(value: unknown): value is TokenRefusal {
	return typeof value === 'string' && (TOKEN_REFUSALS as readonly string[]).includes(value);
}

/** Whether a new token is the only way on: the token will never be accepted again. */
export function isFinalTokenRefusal(why: TokenRefusal): boolean {
	return why === 'expired' || why === 'revoked';
}

/** The `reason` on the wire: VS Code's unauthorized answer, and why. */
export function tokenRefusalReason(why: TokenRefusal): string {
	switch (why) {
		case 'malformed':
			return `${HandshakeReason.Unauthorized}: the token is not a Berth user token`;
		case 'bad-signature':
			return `${HandshakeReason.Unauthorized}: the token was not signed by this agent`;
		case 'not-yet-valid':
			return `${HandshakeReason.Unauthorized}: the token was issued in the future (check the clocks)`;
		case 'expired':
			return `${HandshakeReason.Unauthorized}: the token expired`;
		case 'unknown':
			return `${HandshakeReason.Unauthorized}: the token is unknown to this agent`;
		case 'revoked':
			return `${HandshakeReason.Unauthorized}: the token was revoked`;
	}
}
