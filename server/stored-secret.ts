import { chmodSync, lstatSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readTokenFile } from './shared/read-token-file';

/** Permission bits that let others replace a file in a folder (group or others may write). */
const WRITABLE_BY_OTHERS = 0o022;

/** How a secret the agent keeps in its config folder is made, named and checked. */
export interface StoredSecretSpec {
	/** Names the file in messages, e.g. `the stored token /home/me/.config/berth/token`. */
	readonly what: string;
	/** What the file holds, in messages: `token`, `signing secret`. */
	readonly noun: string;
	/** The flag that names a file of the user's own instead, for messages (`--connection-token-file`). */
	readonly flag: string;
	/** A new secret, as written to the file (without the newline). */
	readonly generate: () => string;
	/** The secret in the file's text (one newline stripped); throws a BerthError saying what to fix. */
	readonly check: (text: string) => string;
	/** Receives what the user should know (a loose mode tightened, a folder others can write to). */
	readonly warn: (message: string) => void;
}

/** A stored secret, and whether it was made just now. */
export interface StoredSecret {
	readonly value: string;
	readonly generated: boolean;
}

/**
 * The secret kept in `path`: reused when it is there, generated (mode 0600, in a 0700 folder) when
 * it is not. An existing file that is broken is an error, never silently replaced: whatever was
 * made with the old secret would break without a word. Used for the agent's connection token
 * (stored-token.ts) and its JWT signing secret (auth/jwt-secret.ts).
 * @throws BerthError BERTH_ERR_TOKEN when the file is a symbolic link, not a regular file,
 * unreadable, or (spec.check) not a valid secret.
 */
export function loadOrCreateStoredSecret(path: string, spec: StoredSecretSpec): StoredSecret {
	if (!exists(path)) {
		const value = spec.generate();
		writeSecretFile(path, value + '\n');
		return { value, generated: true };
	}
	const { text, warnings } = readTokenFile(path, {
		what: spec.what,
		owned: true,
		noun: spec.noun,
		flag: spec.flag,
	});
	warnings.forEach(spec.warn);
	const value = spec.check(text);
	const folder = dirname(path);
	const folderMode = statSync(folder).mode & 0o777;
	if ((folderMode & WRITABLE_BY_OTHERS) !== 0) {
		spec.warn(
			`Berth's folder ${folder} can be written by other users (mode ${folderMode.toString(8).padStart(4, '0')}), ` +
				`who could replace the ${spec.noun}: make it 0700 (chmod 700 ${folder})`,
		);
	}
	return { value, generated: false };
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
