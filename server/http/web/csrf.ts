import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from '../../shared/sign';

/**
 * Cross-site request forgery, stopped twice for every POST of the web pages:
 * 1. the request comes from the agent's own pages: its `Origin` (or, where a browser sends none,
 *    its `Referer`) is the agent's origin. The pages send `Referrer-Policy: same-origin`, under
 *    which browsers send the real Origin on same-origin POSTs (under `no-referrer` they send
 *    `Origin: null`);
 * 2. the form carries the session's CSRF token (a hidden field), compared in constant time.
 * The sign-in forms have no session yet: the first check covers them, and a forged sign-in would
 * need the connection token anyway. The session cookie is SameSite=Lax besides.
 */

/** The hidden field that carries the CSRF token in every form. */
export const CSRF_FIELD = 'csrf';

/** Whether the form's token is the session's (constant time; absent or empty never matches). */
export function csrfMatches(expected: string, presented: string | null | undefined): boolean {
	return typeof presented === 'string' && presented !== '' && safeEqual(expected, presented);
}

/**
 * Whether a request's Origin, or else its Referer, is `origin` (`http(s)://host[:port]` as the
 * agent was reached). Neither header, `Origin: null`, or anything unparsable: no.
 */
export function isSameOrigin(headers: IncomingHttpHeaders, origin: string): boolean {
	const own = originOf(origin);
	const claimed = headers.origin ?? headers.referer;
	return own !== undefined && claimed !== undefined && originOf(claimed) === own;
}

/** The serialized origin of a URL (scheme, host, port; default ports dropped), lowercase. */
function originOf(url: string): string | undefined {
	try {
		const parsed = new URL(url);
		return parsed.protocol === 'http:' || parsed.protocol === 'https:'
			? parsed.origin.toLowerCase()
			: undefined;
	} catch {
		return undefined;
	}
}
