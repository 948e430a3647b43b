import type { Database } from 'node-sqlite3-wasm';
import { BerthError, errorMessage } from '../../protocol/errors';

/**
 * The token database's schema, as the list of steps that build it. A database records how many
 * it has had in `PRAGMA user_version`; opening one applies the rest, in order, each in its own
 * transaction. A step, once released, is never edited: a change is a new step at the end.
 */
export interface Migration {
	/** 1 for the first step, then 2, 3…: the user_version a database has after it. */
	readonly version: number;
	readonly what: string;
	readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		what: 'tokens',
		// STRICT: a value of the wrong type is refused, not stored as whatever it is.
		sql: `
			CREATE TABLE tokens (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL,
				email TEXT NOT NULL,
				name TEXT NOT NULL,
				role TEXT NOT NULL CHECK (role IN ('client', 'provider', 'connector')),
				sha256 TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				expires_at INTEGER NOT NULL,
				last_used_at INTEGER,
				revoked_at INTEGER
			) STRICT;
			CREATE UNIQUE INDEX tokens_sha256 ON tokens (sha256);`,
	},
	{
		version: 2,
		what: 'users: one stable id per email',
		// Tokens issued before this step name their users already: the first id of each email stays.
		sql: `
			CREATE TABLE users (
				id TEXT PRIMARY KEY,
				email TEXT NOT NULL UNIQUE,
				created_at INTEGER NOT NULL
			) STRICT;
			INSERT OR IGNORE INTO users (id, email, created_at)
				SELECT user_id, email, created_at FROM tokens ORDER BY created_at, id;
			CREATE INDEX tokens_user_id ON tokens (user_id);`,
	},
];

/** The schema version of an open database (0 for a new one). */
export function schemaVersion(db: Database): number {
	const row = db.get('PRAGMA user_version');
	const version = row?.['user_version'];
	return typeof version === 'number' ? version : 0;
}

/**
 * Brings the database at `path` to the last version of `migrations`.
 * @throws BerthError BERTH_ERR_STORE when the database is newer than this Berth (it would not
 * know its schema), or a step fails (it is rolled back; the steps before it stay).
 */
export function migrate(db: Database, path: string, migrations: readonly Migration[] = MIGRATIONS): void {
	const current = schemaVersion(db);
	const latest = migrations.length;
	if (current > latest) {
		throw new BerthError(
			'BERTH_ERR_STORE',
			`the token database ${path} has schema version ${current}, and this Berth knows up to ${latest}: ` +
				'it was written by a newer Berth. Run that version, or give another --db path',
		);
	}
	for (const migration of migrations.slice(current)) {
		apply(db, path, migration);
	}
}

function apply(db: Database, path: string, migration: Migration): void {
	try {
		db.exec(`BEGIN IMMEDIATE; ${migration.sql}; PRAGMA user_version = ${migration.version}; COMMIT;`);
	} catch (error) {
		if (db.inTransaction) {
			db.exec('ROLLBACK');
		}
		throw new BerthError(
			'BERTH_ERR_STORE',
			`cannot bring the token database ${path} to schema version ${migration.version} ` +
				`(${migration.what}): ${errorMessage(error)}`,
			undefined,
			{ cause: error },
		);
	}
}
