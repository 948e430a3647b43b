import { randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readTokenFile } from './shared/read-token-file';
import { checkToken, MIN_AGENT_TOKEN_LENGTH, stripOneNewline } from './shared/token-rules';

/** Permission bits that let others replace a file in a folder (group or others may write). */
const WRITABLE_BY_OTHERS = 0o022;

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
	if (!exists(path)) {
		const value = randomUUID();
		writeSecretFile(path, value + '\n');
		return { value, path, generated: true };
	}
	const what = `the stored token ${path}`;
	const { text, warnings } = readTokenFile(path, { what, owned: true });
	warnings.forEach(warn);
	const value = checkToken(
		stripOneNewline(text),
		what,
		MIN_AGENT_TOKEN_LENGTH,
		'. Berth does not replace it (clients that use it would stop working without a word): ' +
			'fix it, or delete it to have a new one generated',
	);
	const folderMode = statSync(configDir).mode & 0o777;
	if ((folderMode & WRITABLE_BY_OTHERS) !== 0) {
		warn(
			`Berth's folder ${configDir} can be written by other users (mode ${folderMode.toString(8).padStart(4, '0')}), ` +
				`who could replace the token: make it 0700 (chmod 700 ${configDir})`,
		);
	}
	return { value, path, generated: false };
}

/** Writes a file only its owner can read (0600), in a folder only its owner can enter (0700). */
export function writeSecretFile(path: string, contents: string): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const temporary = `${path}.${process.pid}.tmp`;
	writeFileSync(temporary, contents, { mode: 0o600 });
	chmodSync(temporary, 0o600); // the umask cannot loosen it, but an existing file keeps its mode
	renameSync(temporary, path); // replaces a link itself, never what it points to
}

/** Whether anything (a file, a dangling link) is at `path`; other errors surface when it is read. */
function exists(path: string): boolean {
	try {
		lstatSync(path);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code !== 'ENOENT';
	}
}
