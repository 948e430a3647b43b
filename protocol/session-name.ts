/**
 * A session's name on the agent (`berth forward --session-name NAME`, or an init URL's prefix and
 * this host's name): shown beside the signed-in user in the agent's client list. It is for people,
 * so a bad one is never a reason to refuse a connection: the client checks what the user typed,
 * and the agent drops what does not pass.
 */

/** Longest session name (Berth's bound, as a `hello` name's). */
export const MAX_SESSION_NAME_CHARS = 128;
/** Longest session-name prefix an init URL may carry: room is left for the host name. */
export const MAX_SESSION_PREFIX_CHARS = 64;

/** C0 and C1 control characters: they would rewrite a terminal or a log line. */
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Whether `value` is a session name: 1 to MAX_SESSION_NAME_CHARS characters, none of them control characters. */
export function isSessionName(value: unknown): value is string {
	return (
		typeof value === 'string' &&
		value.length > 0 &&
		value.length <= MAX_SESSION_NAME_CHARS &&
		!CONTROL_CHARACTERS.test(value)
	);
}

/** Whether `value` may prefix a session name: at most MAX_SESSION_PREFIX_CHARS, no control characters (may be empty). */
export function isSessionPrefix(value: unknown): value is string {
	return (
		typeof value === 'string' && value.length <= MAX_SESSION_PREFIX_CHARS && !CONTROL_CHARACTERS.test(value)
	);
}

/**
 * The default session name: the prefix, then the host's name (`alice-` + `laptop`), cut to
 * MAX_SESSION_NAME_CHARS; control characters in the host name become `?`.
 */
export function defaultSessionName(prefix: string, hostName: string): string {
	const name = `${prefix}${hostName.replace(/\p{Cc}/gu, '?')}`.slice(0, MAX_SESSION_NAME_CHARS);
	return name === '' ? 'berth' : name;
}
