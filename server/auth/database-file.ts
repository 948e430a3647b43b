import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError, errorMessage } from '../../protocol/errors';

/**
 * The token database's file on disk: 0600, in a folder created 0700. A looser mode found on open
 * is tightened, with a warning; a new file's folder entry is fsynced, so that a power cut does
 * not lose the file whose pages SQLite synced.
 */

/** Permission bits that let anyone but the owner in (group and others). */
const OPEN_TO_OTHERS = 0o077;
const OWNER_ONLY = 0o600;

/**
 * Creates the folder (0700) when missing; checks an existing file and tightens its mode (and its
 * WAL's). Returns whether the database is new.
 */
export function prepareFile(path: string, warn: (message: string) => void): boolean {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const isNew = attempt(path, 'read', () => statOrUndefined(path)) === undefined;
	for (const file of [path, `${path}-wal`]) {
		const stats = attempt(path, 'read', () => statOrUndefined(file));
		if (stats === undefined) {
			continue;
		}
		if (!stats.isFile()) {
			throw new BerthError(
				'BERTH_ERR_STORE',
				`the token database ${file} is not a file: give another --db path`,
			);
		}
		const mode = stats.mode & 0o777;
		if ((mode & OPEN_TO_OTHERS) !== 0) {
			attempt(path, 'tighten the mode of', () => chmodSync(file, OWNER_ONLY));
			warn(
				`the token database ${file} was open to other users (mode ${mode.toString(8).padStart(4, '0')}); ` +
					'it is now 0600. Token hashes and emails may have been read, not the tokens themselves',
			);
		}
	}
	return isNew;
}

/** Makes a database file just created 0600 (whatever the umask) and its name durable. */
export function sealNewFile(path: string): void {
	attempt(path, 'seal', () => {
		chmodSync(path, OWNER_ONLY);
		syncFolder(dirname(path));
	});
}

/** Runs a database or file call, turning its error into a BerthError that names the database. */
export function attempt<T>(path: string, what: string, call: () => T): T {
	try {
		return call();
	} catch (error) {
		if (error instanceof BerthError) {
			throw error;
		}
		throw new BerthError(
			'BERTH_ERR_STORE',
			`cannot ${what} the token database ${path}: ${errorMessage(error)}`,
			undefined,
			{
				cause: error,
			},
		);
	}
}

export function statOrUndefined(path: string): Stats | undefined {
	try {
		return statSync(path);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}
		throw error;
	}
}

function syncFolder(folder: string): void {
	const fd = openSync(folder, 'r');
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}
