/**
 * The first line `berth server` prints on stdout once it listens: exactly
 * `Berth agent listening on ws://HOST:PORT`. It is a contract: the extension, which forks the
 * agent, waits for it, and so may scripts; both ends use this module.
 */

const PREFIX = 'Berth agent listening on ';
const LINE = /^Berth agent listening on (wss?:\/\/\S+)$/;

/** The line for an agent listening at `url` (`ws://HOST:PORT`). */
export function formatListeningLine(url: string): string {
	return PREFIX + url;
}

/** The agent's URL when `line` is the listening line, else undefined. */
export function parseListeningLine(line: string): string | undefined {
	return LINE.exec(line)?.[1];
}
