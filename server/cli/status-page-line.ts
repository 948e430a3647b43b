/** Characters a POSIX shell word may hold unquoted. */
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

/**
 * The server's `Status page:` stdout line. Stdout ends up in journald, `docker logs` or
 * nohup.out, so it never holds the token: when the token is in a file only its owner can read,
 * the line gives a shell command that prints the link with the token (`?tkn=`) instead.
 * @param statusUrl The page, e.g. `http://127.0.0.1:8765/`.
 * @param tokenPath The file holding the token, when the user may be told to read it.
 */
export function statusPageLine(statusUrl: string, tokenPath: string | undefined): string {
	if (tokenPath === undefined) {
		return `Status page: ${statusUrl}`;
	}
	return `Status page: ${statusUrl} (the link that signs in: echo "${statusUrl}?tkn=$(cat ${shellQuote(tokenPath)})")`;
}

/** `text` as one shell word: as it is when that is safe, else in single quotes. */
export function shellQuote(text: string): string {
	return SHELL_SAFE.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
