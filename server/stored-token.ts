import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadOrCreateStoredSecret } from './stored-secret';
import { checkToken, MIN_AGENT_TOKEN_LENGTH, stripOneNewline } from './shared/token-rules';

/** The agent's stored token, and whether it was made just now. */
export interface StoredToken {
	readonly value: string;
	readonly path: string;
	readonly generated: boolean;
}

/**
 * The token kept in `<configDir>/token`: reused when it is there, generated (a UUID, mode 0600)
 * when it is not. Unlike VS Code, an existing file that is broken is an error, never silently
 * replaced: clients that hold the old token would break without a word.
 * @param warn Receives what the user should know (a loose mode that was tightened, a folder others
 * can write to), one line each.
 * @throws BerthError BERTH_ERR_TOKEN when the file is a symbolic link, not a regular file,
 * unreadable, or not a valid token; the message says to fix or delete it.
 */
export function loadOrCreateStoredToken(configDir: string, warn: (message: string) => void): StoredToken {
	const path = join(configDir, 'token');
	const what = `the stored token ${path}`;
	const { value, generated } = loadOrCreateStoredSecret(path, {
		what,
		noun: 'token',
		flag: '--connection-token-file',
		generate: randomUUID,
		check: (text) =>
			checkToken(
				stripOneNewline(text),
				what,
				MIN_AGENT_TOKEN_LENGTH,
				'. Berth does not replace it (clients that use it would stop working without a word): ' +
					'fix it, or delete it to have a new one generated',
			),
		warn,
	});
	return { value, path, generated };
}
