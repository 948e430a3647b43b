import type { Database } from 'node-sqlite3-wasm';
import { BerthError, errorMessage } from '../../protocol/errors';
import {
	clearStaleLock,
	currentOwner,
	heldMessage,
	isProcessAlive,
	lockPath,
	removeOwner,
	writeOwner,
} from './database-lock';
import { attempt, prepareFile, sealNewFile, statOrUndefined } from './database-file';
import { loadSqlite } from './load-sqlite';
import { migrate, MIGRATIONS, type Migration } from './token-migrations';
import { isTokenRole, type TokenListFilter, type TokenRecord, type TokenStore } from './token-store';

/**
 * The token database in a SQLite file, through node-sqlite3-wasm: SQLite compiled to WebAssembly
 * with a file system layer on Node's `fs`, so it needs no native add-on (none loads in VS Code's
 * Electron) and dist/server.js carries it (esbuild.mjs inlines the .wasm).
 *
 * Durability: WAL with `synchronous = FULL`, so a commit is fsynced into the WAL before the call
 * resolves, and a process killed at any instant leaves a database that SQLite recovers on the next
 * open. WAL without shared memory needs SQLite's exclusive locking mode: the store holds the lock
 * while it is open, so one process at a time uses a database (database-lock.ts says how a lock
 * left by a killed process is recognised and removed).
 *
 * The file is 0600 in a folder created 0700 (database-file.ts).
 */

export interface SqliteTokenStoreOptions {
	/** Receives what the user should know (a loose mode tightened, a stale lock removed), one line each. */
	readonly warn?: (message: string) => void;
	/** The schema steps to apply (default: all of MIGRATIONS); tests open older versions with fewer. */
	readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating when missing) the token database at `path`, bringing its schema up to date.
 * Loads SQLite on first use, not at import.
 * @throws BerthError BERTH_ERR_STORE when another process has it open, it is not a SQLite
 * database, it was written by a newer Berth, or it cannot be read or written. Messages say what to do.
 */
export async function openSqliteTokenStore(
	path: string,
	options: SqliteTokenStoreOptions = {},
): Promise<TokenStore> {
	const warn = options.warn ?? (() => undefined);
	const isNew = prepareFile(path, warn);
	const owner = currentOwner();
	clearStaleLock(path, { self: owner, now: Date.now(), isAlive: isProcessAlive }, warn);
	const { Database } = await loadSqlite();
	const db = attempt(path, 'open', () => new Database(path));
	let locked = false;
	try {
		configure(db, path);
		locked = true;
		writeOwner(path, owner);
		migrate(db, path, options.migrations ?? MIGRATIONS);
		if (isNew) {
			sealNewFile(path);
		}
	} catch (error) {
		try {
			close(db, path, locked);
		} catch {
			// The error that stopped the opening is the one to report.
		}
		throw error;
	}
	return new SqliteTokenStore(db, path);
}

/** The first statements: they take the lock (refused when another process holds it) and turn WAL on. */
function configure(db: Database, path: string): void {
	// Exclusive first: a WAL database cannot even be read without it here (no shared memory).
	attempt(path, 'configure', () => db.exec('PRAGMA locking_mode = EXCLUSIVE'));
	// clearStaleLock found no lock, or removed a dead one: one there now was taken since, just now.
	const takenMeanwhile = statOrUndefined(lockPath(path)) !== undefined;
	let mode: unknown;
	try {
		mode = db.get('PRAGMA journal_mode = WAL')?.['journal_mode'];
	} catch (error) {
		const message = takenMeanwhile ? heldMessage(path) : errorMessage(error);
		throw new BerthError('BERTH_ERR_STORE', `cannot open the token database ${path}: ${message}`, undefined, {
			cause: error,
		});
	}
	if (mode !== 'wal') {
		throw new BerthError(
			'BERTH_ERR_STORE',
			`the token database ${path} cannot use WAL (journal mode ${String(mode)})`,
		);
	}
	attempt(path, 'configure', () => db.exec('PRAGMA synchronous = FULL'));
}

/** The TokenStore over an open database. Its methods run synchronously: SQLite here is in-process. */
class SqliteTokenStore implements TokenStore {
	private open = true;

	constructor(
		private readonly db: Database,
		private readonly path: string,
	) {}

	async insert(record: TokenRecord): Promise<void> {
		this.use('insert into', (db) =>
			db.run(
				`INSERT INTO tokens (id, user_id, email, name, role, sha256, created_at, expires_at, last_used_at, revoked_at)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				[
					record.id,
					record.userId,
					record.email,
					record.name,
					record.role,
					record.sha256,
					record.createdAt,
					record.expiresAt,
					record.lastUsedAt ?? null,
					record.revokedAt ?? null,
				],
			),
		);
	}

	async findByHash(sha256: string): Promise<TokenRecord | undefined> {
		return this.one('SELECT * FROM tokens WHERE sha256 = ?', sha256);
	}

	async get(id: string): Promise<TokenRecord | undefined> {
		return this.one('SELECT * FROM tokens WHERE id = ?', id);
	}

	async list(filter: TokenListFilter = {}): Promise<readonly TokenRecord[]> {
		const rows = this.use('read', (db) =>
			filter.userId === undefined
				? db.all('SELECT * FROM tokens ORDER BY created_at, id')
				: db.all('SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id', [filter.userId]),
		);
		return rows.map((row) => toRecord(row, this.path));
	}

	async revoke(id: string, atMs: number): Promise<TokenRecord | undefined> {
		this.use('write', (db) =>
			db.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [atMs, id]),
		);
		return this.get(id);
	}

	async touch(id: string, atMs: number): Promise<void> {
		this.use('write', (db) => db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [atMs, id]));
	}

	async userIdFor(email: string, newId: string, atMs: number): Promise<string> {
		return this.use('write', (db) => {
			db.run('INSERT INTO users (id, email, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING', [
				newId,
				email,
				atMs,
			]);
			const id = db.get('SELECT id FROM users WHERE email = ?', [email])?.['id'];
			if (typeof id !== 'string') {
				throw new BerthError('BERTH_ERR_STORE', `the token database ${this.path} lost the user ${email}`);
			}
			return id;
		});
	}

	/** Closes the database: SQLite checkpoints the WAL into the file and releases the lock. */
	dispose(): void {
		if (this.open) {
			this.open = false;
			close(this.db, this.path, true);
		}
	}

	private one(sql: string, key: string): TokenRecord | undefined {
		const row = this.use('read', (db) => db.get(sql, [key]));
		return row ? toRecord(row, this.path) : undefined;
	}

	private use<T>(what: string, work: (db: Database) => T): T {
		if (!this.open) {
			throw new BerthError('BERTH_ERR_CLOSED', `the token database ${this.path} is closed`);
		}
		return attempt(this.path, what, () => work(this.db));
	}
}

/** A row as a TokenRecord, checked: a row that breaks the schema means the file was edited by hand. */
function toRecord(row: Record<string, unknown>, path: string): TokenRecord {
	const text = (key: string): string => {
		const value = row[key];
		if (typeof value !== 'string') {
			throw new BerthError('BERTH_ERR_STORE', `the token database ${path} has a row without ${key}`);
		}
		return value;
	};
	const time = (key: string): number | undefined => {
		const value = row[key];
		return typeof value === 'number' ? value : undefined;
	};
	const role = text('role');
	const createdAt = time('created_at');
	const expiresAt = time('expires_at');
	if (!isTokenRole(role) || createdAt === undefined || expiresAt === undefined) {
		throw new BerthError('BERTH_ERR_STORE', `the token database ${path} has a broken row (${text('id')})`);
	}
	const lastUsedAt = time('last_used_at');
	const revokedAt = time('revoked_at');
	return {
		id: text('id'),
		userId: text('user_id'),
		email: text('email'),
		name: text('name'),
		role,
		sha256: text('sha256'),
		createdAt,
		expiresAt,
		...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
		...(revokedAt !== undefined ? { revokedAt } : {}),
	};
}

/**
 * Closes the database and, when this process held the lock, forgets the lock's owner (never
 * another's: an opener refused because the lock was taken must leave its holder's file). A close
 * that fails loses nothing: what was committed is in the WAL, which the next open replays.
 */
function close(db: Database, path: string, heldLock: boolean): void {
	try {
		if (db.isOpen) {
			attempt(path, 'close', () => db.close());
		}
	} finally {
		if (heldLock) {
			removeOwner(path);
		}
	}
}
