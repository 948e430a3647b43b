import { randomBytes } from 'node:crypto';
import {
	closeSync,
	constants,
	fchmodSync,
	fstatSync,
	fsyncSync,
	lstatSync,
	mkdirSync,
	openSync,
	readFileSync,
	renameSync,
	rmSync,
	writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../protocol/errors';

/**
 * Files of Berth's that hold secrets and are rewritten whole (the client's saved logins): only
 * the owner may read them (0600), in a folder only the owner may enter (0700); they are read with
 * a bound and never through a symbolic link, and replaced atomically, so that a crash or a
 * concurrent reader sees the old file or the new one, never a part of either.
 */

/** The most a secret file may hold (1 MiB): far more than a few hundred logins need. */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;
/** Permission bits that let anyone but the owner in (group and others). */
const OPEN_TO_OTHERS = 0o077;
const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_FOLDER = 0o700;

export interface SecretFileText {
	readonly path: string;
	readonly text: string;
}

/**
 * Reads `<dir>/<name>`: undefined when there is none. A mode open to others is tightened to 0600
 * (through the open descriptor), with a warning that what it holds may have leaked.
 * @throws BerthError BERTH_ERR_USAGE for a link, something other than a regular file, a file
 * over MAX_SECRET_FILE_BYTES, or one that cannot be read; the message names it.
 */
export function readSecretFile(
	dir: string,
	name: string,
	warn?: (message: string) => void,
): SecretFileText | undefined {
	const path = join(dir, name);
	let isLink: boolean;
	try {
		isLink = lstatSync(path).isSymbolicLink();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}
		throw fileError('read', path, error);
	}
	if (isLink) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${path} is a symbolic link: Berth does not follow it (it holds tokens); put the file itself there`,
		);
	}
	const fd = attempt('read', path, () => openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW));
	try {
		const stats = fstatSync(fd);
		if (!stats.isFile() || stats.size > MAX_SECRET_FILE_BYTES) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`${path} is ${stats.isFile() ? `over ${MAX_SECRET_FILE_BYTES / 1024} KiB` : 'not a regular file'}: move it away`,
			);
		}
		const mode = stats.mode & 0o777;
		if ((mode & OPEN_TO_OTHERS) !== 0) {
			fchmodSync(fd, OWNER_ONLY_FILE);
			warn?.(
				`${path} was open to other users (mode ${mode.toString(8).padStart(4, '0')}); it is now 0600. ` +
					'The tokens in it may have leaked: have them revoked if others could read it',
			);
		}
		return { path, text: attempt('read', path, () => readFileSync(fd, 'utf8')) };
	} finally {
		closeSync(fd);
	}
}

/**
 * Replaces `<dir>/<name>` with `text`: written to a new file in the same folder (0600, created
 * exclusively, so no planted link is followed), flushed to disk, then renamed over the old one
 * (which replaces a link itself, never what it points to), and the folder flushed too. The
 * folder is made 0700 when it does not exist.
 * @throws BerthError BERTH_ERR_USAGE naming the file when it cannot be written.
 */
export function writeSecretFileAtomically(dir: string, name: string, text: string): void {
	const path = join(dir, name);
	attempt('write', path, () => mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_FOLDER }));
	const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
	const fd = attempt('write', path, () => openSync(temporary, 'wx', OWNER_ONLY_FILE));
	try {
		attempt('write', path, () => {
			writeSync(fd, text);
			fsyncSync(fd);
		});
	} catch (error) {
		closeSync(fd);
		rmSync(temporary, { force: true });
		throw error;
	}
	closeSync(fd);
	try {
		attempt('write', path, () => renameSync(temporary, path));
	} catch (error) {
		rmSync(temporary, { force: true });
		throw error;
	}
	syncFolder(dir);
}

/** Flushes a folder's entries (the rename) to disk; a system that cannot (some do not) is not an error. */
function syncFolder(dir: string): void {
	try {
		const fd = openSync(dir, constants.O_RDONLY);
		try {
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
	} catch {
		// Best effort: the file itself is on disk already.
	}
}

function attempt<T>(what: 'read' | 'write', path: string, call: () => T): T {
	try {
		return call();
	} catch (error) {
		throw fileError(what, path, error);
	}
}

function fileError(what: 'read' | 'write', path: string, error: unknown): BerthError {
	if (error instanceof BerthError) {
		return error;
	}
	const code = (error as NodeJS.ErrnoException).code ?? String(error);
	return new BerthError('BERTH_ERR_USAGE', `cannot ${what} ${path}: ${code}`, undefined, { cause: error });
}
