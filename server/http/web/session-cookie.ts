import type { ServerResponse } from 'node:http';
import { WEB_SESSION_TTL_MS } from './web-sessions';

/**
 * The browser session's cookie: the session id only (web-sessions.ts), never a token.
 * - HttpOnly: no script reads it;
 * - SameSite=Lax: another site's forms and scripts never send it with a POST (links still do,
 *   so a link to /tokens from elsewhere arrives signed in, as a reader expects);
 * - Secure when the agent serves TLS: never sent over plain HTTP;
 * - Path=/ and no Domain: the agent's own host only; Max-Age is the session's lifetime.
 */
export const SESSION_COOKIE = 'berth-session';

/** The Set-Cookie value that starts a session. */
export function sessionCookie(id: string, secure: boolean, maxAgeMs = WEB_SESSION_TTL_MS): string {
	return cookie(`${SESSION_COOKIE}=${id}`, Math.floor(maxAgeMs / 1000), secure);
}

/** The Set-Cookie value that makes the browser drop the session cookie (sign-out). */
export function clearedSessionCookie(secure: boolean): string {
	return cookie(`${SESSION_COOKIE}=`, 0, secure);
}

/**
 * Adds a Set-Cookie header without replacing one already set (a sign-in provider may set its
 * own in the same answer: web-sign-in.ts).
 */
export function addSetCookie(res: ServerResponse, value: string): void {
	res.appendHeader('Set-Cookie', value);
}

function cookie(pair: string, maxAgeS: number, secure: boolean): string {
	return `${pair}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
