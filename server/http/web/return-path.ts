/**
 * Where a browser goes back to after signing in (`?return=` and the sign-in form's hidden field):
 * a path on the agent itself, never another site (an open redirect would lend the agent's name to
 * a phishing page). Anything else falls back to the token page.
 */

/** Where signing in leads when no return path was given. */
export const DEFAULT_RETURN_PATH = '/tokens';
/** The longest return path kept (a device page with its code is about 30 characters). */
const MAX_RETURN_PATH_CHARS = 512;

/**
 * `value` if it is a path on this agent: it starts with one `/` (not `//` nor `/\`, which browsers
 * read as another host), has no control characters or spaces, and is at most
 * MAX_RETURN_PATH_CHARS; otherwise DEFAULT_RETURN_PATH.
 */
export function safeReturnPath(value: string | null | undefined): string {
	if (
		typeof value !== 'string' ||
		value.length > MAX_RETURN_PATH_CHARS ||
		!/^\/(?![/\\])[\x21-\x7e]*$/.test(value)
	) {
		return DEFAULT_RETURN_PATH;
	}
	return value;
}
