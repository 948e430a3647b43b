/** A JWS in compact form: three base64url parts (the last may be empty only for `alg: none`). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Longest user token accepted anywhere (Berth's bound: its own tokens are under 1 KiB). */
export const MAX_USER_TOKEN_CHARS = 4096;

/**
 * Whether a string has a JWT's shape, which no connection token has (`.` is outside their
 * alphabet): the handshake and HTTP tell user tokens from connection tokens by it. Shape only:
 * the agent verifies the rest.
 */
export function isJwtShaped(value: string): boolean {
	return value.length <= MAX_USER_TOKEN_CHARS && JWT_SHAPE.test(value);
}
