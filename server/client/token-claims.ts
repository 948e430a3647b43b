import { decodeJwt } from 'jose';
import { BerthError, errorMessage } from '../../protocol/errors';
import { isJwtShaped } from '../../protocol/jwt-shape';

/** Who a token says its holder is: a user token's claims, or nobody in particular for a connection token. */
export interface TokenClaims {
	/** `sub`: the user's id; '' for a connection token. */
	readonly userId: string;
	/** `email`; '' for a connection token. */
	readonly email: string;
	/** `exp`, seconds since 1970, when the token has one. */
	readonly expiresAt?: number;
}

/**
 * Reads the user a signed user token names, without verifying it: the client cannot (the key is
 * the agent's), and does not need to, since the agent verifies it on every connection. For what a
 * client shows and saves (berth login), never for a decision about access. A connection token
 * names no user.
 * @throws BerthError BERTH_ERR_TOKEN when a JWT-shaped token's payload is not a JWT's.
 */
export function readTokenClaims(token: string): TokenClaims {
	if (!isJwtShaped(token)) {
		return { userId: '', email: '' };
	}
	let claims: ReturnType<typeof decodeJwt>;
	try {
		claims = decodeJwt(token);
	} catch (error) {
		throw new BerthError('BERTH_ERR_TOKEN', `the token's payload cannot be read: ${errorMessage(error)}`);
	}
	const text = (value: unknown): string => (typeof value === 'string' ? value : '');
	return {
		userId: text(claims.sub),
		email: text(claims['email']),
		...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
	};
}
