import { CONNECTION_TOKEN_PATTERN } from './constants';
import { isJwtShaped } from './jwt-shape';

/**
 * Whether a client may present `value` as its token: a connection token (VS Code's character
 * rule) or a signed user token (a JWT's shape: three base64url parts joined by `.`, a character
 * no connection token has). Shape only: the agent judges the rest (a connection token's length,
 * a user token's signature and lifetime). Every client path that reads a token checks it here.
 */
export function isClientToken(value: string): boolean {
	return CONNECTION_TOKEN_PATTERN.test(value) || isJwtShaped(value);
}
