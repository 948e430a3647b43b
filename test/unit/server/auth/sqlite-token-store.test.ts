import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
	chmodSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	statSync,
	utimesSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentOwner, lockPath, ownerPath, writeOwner } from '../../../../server/auth/database-lock';
import { loadSqlite } from '../../../../server/auth/load-sqlite';
import { openSqliteTokenStore } from '../../../../server/auth/sqlite-token-store';
import { MIGRATIONS } from '../../../../server/auth/token-migrations';
import type { TokenRecord } from '../../../../server/auth/token-store';
import { ensureNoLeaks } from '../../../helpers/leaks';

const dir = () => mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
const mode = (path: string) => statSync(path).mode & 0o777;

const TOKEN: TokenRecord = {
	id: 't1',
	userId: 'user-1',
	email: 'ada@example.com',
	name: 'laptop',
	role: 'client',
	sha256: 'abc',
	createdAt: 1_000,
	expiresAt: 9_000,
};

/** The pid of a process that has ended (a child that exited at once). */
function deadPid(): number {
	const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
	return Number(child.stdout.toString());
}

describe('the SQLite token store', () => {
	const leaks = ensureNoLeaks();
	const open = async (path: string, warn?: (message: string) => void) =>
		leaks.track(await openSqliteTokenStore(path, warn ? { warn } : {}));

	it('creates its file 0600 in folders created 0700, and keeps tokens across a reopen', async () => {
		const path = join(dir(), 'new', 'deeper', 'tokens.db');
		const store = await open(path);
		await store.insert(TOKEN);
		assert.equal(mode(path), 0o600);
		assert.equal(mode(join(path, '..')), 0o700);
		assert.equal(mode(join(path, '..', '..')), 0o700);
		store.dispose();
		assert.equal(existsSync(lockPath(path)), false, 'the lock is released on dispose');
		assert.equal(existsSync(ownerPath(path)), false, 'and its owner forgotten');
		const again = await open(path);
		assert.deepEqual(await again.get('t1'), TOKEN);
		again.dispose();
	});

	it('tightens a file that others can read to 0600, and says so', async () => {
		const path = join(dir(), 'tokens.db');
		(await open(path)).dispose();
		chmodSync(path, 0o644);
		const warnings: string[] = [];
		const store = await open(path, (message) => warnings.push(message));
		assert.equal(mode(path), 0o600);
		assert.equal(warnings.length, 1);
		assert.match(warnings[0]!, /was open to other users \(mode 0644\); it is now 0600/);
		store.dispose();
	});

	it('refuses a second opener while a store has the file open, saying who holds it', async () => {
		const path = join(dir(), 'tokens.db');
		const store = await open(path);
		await assert.rejects(openSqliteTokenStore(path), {
			code: 'BERTH_ERR_STORE',
			message: new RegExp(`in use by process ${process.pid} .*-u URL`),
		});
		await store.insert(TOKEN); // the refused opener took nothing from the first
		store.dispose();
	});

	it('removes a lock left by a process that has ended, with a warning, and opens', async () => {
		const path = join(dir(), 'tokens.db');
		(await open(path)).dispose();
		mkdirSync(lockPath(path));
		writeOwner(path, { pid: deadPid(), started: 1 });
		const warnings: string[] = [];
		const store = await open(path, (message) => warnings.push(message));
		assert.match(warnings.join('\n'), /was left locked by process \d+, which ended without closing it/);
		assert.deepEqual(JSON.parse(readFileSync(ownerPath(path), 'utf8')), currentOwner());
		store.dispose();
	});

	it('removes a lock left by an earlier process with this pid (a restart in a container)', async () => {
		const path = join(dir(), 'tokens.db');
		(await open(path)).dispose();
		mkdirSync(lockPath(path));
		writeOwner(path, { pid: process.pid, started: currentOwner().started - 5_000 });
		const warnings: string[] = [];
		const store = await open(path, (message) => warnings.push(message));
		assert.match(warnings.join('\n'), new RegExp(`left locked by process ${process.pid}`));
		store.dispose();
	});

	it('refuses a lock that a live process holds, and one being taken right now (no owner yet)', async () => {
		const path = join(dir(), 'tokens.db');
		(await open(path)).dispose();
		mkdirSync(lockPath(path));
		await assert.rejects(openSqliteTokenStore(path), {
			code: 'BERTH_ERR_STORE',
			message: /in use by another process/,
		});
		writeOwner(path, { pid: process.ppid, started: 1 });
		await assert.rejects(openSqliteTokenStore(path), {
			code: 'BERTH_ERR_STORE',
			message: new RegExp(`in use by process ${process.ppid}`),
		});
		assert.ok(existsSync(lockPath(path)), 'a live holder keeps its lock');
	});

	it('takes an ownerless lock older than 10 s as left by a crash', async () => {
		const path = join(dir(), 'tokens.db');
		(await open(path)).dispose();
		mkdirSync(lockPath(path));
		const past = new Date(Date.now() - 60_000);
		utimesSync(lockPath(path), past, past);
		const warnings: string[] = [];
		const store = await open(path, (message) => warnings.push(message));
		assert.match(warnings.join('\n'), /left locked by a process/);
		store.dispose();
	});

	it('refuses a file that is not a SQLite database, naming it, and leaves it as it was', async () => {
		const path = join(dir(), 'tokens.db');
		writeFileSync(path, 'not a database, but someone’s notes\n'.repeat(100), { mode: 0o600 });
		await assert.rejects(openSqliteTokenStore(path), {
			code: 'BERTH_ERR_STORE',
			message: new RegExp(`${path}.*not a database`),
		});
		assert.match(readFileSync(path, 'utf8'), /^not a database/);
		assert.equal(existsSync(lockPath(path)), false);
		const folder = join(dir(), 'a-folder');
		mkdirSync(folder);
		await assert.rejects(openSqliteTokenStore(folder), { code: 'BERTH_ERR_STORE', message: /is not a file/ });
	});
});

describe('the token database schema', () => {
	const leaks = ensureNoLeaks();

	it('brings a version 1 file to the latest version, keeping its tokens and giving their users ids', async () => {
		const path = join(dir(), 'tokens.db');
		const v1 = leaks.track(await openSqliteTokenStore(path, { migrations: MIGRATIONS.slice(0, 1) }));
		await v1.insert(TOKEN);
		await v1.insert({ ...TOKEN, id: 't2', sha256: 'def', userId: 'user-1', createdAt: 2_000 });
		v1.dispose();
		assert.equal(await userVersion(path), 1);

		const latest = leaks.track(await openSqliteTokenStore(path));
		assert.deepEqual(await latest.get('t1'), TOKEN);
		// The users table was filled from the tokens: the email keeps the id its tokens carry.
		assert.equal(await latest.userIdFor(TOKEN.email, 'a-new-id', 3_000), 'user-1');
		latest.dispose();
		assert.equal(await userVersion(path), MIGRATIONS.length);
	});

	it('numbers its steps 1, 2, 3… in order', () => {
		assert.deepEqual(
			MIGRATIONS.map((m) => m.version),
			MIGRATIONS.map((_, i) => i + 1),
		);
	});

	it('refuses a file written by a newer Berth, and leaves it as it was', async () => {
		const path = join(dir(), 'tokens.db');
		leaks.track(await openSqliteTokenStore(path)).dispose();
		await setUserVersion(path, MIGRATIONS.length + 1);
		await assert.rejects(openSqliteTokenStore(path), {
			code: 'BERTH_ERR_STORE',
			message: new RegExp(
				`schema version ${MIGRATIONS.length + 1}, and this Berth knows up to ${MIGRATIONS.length}`,
			),
		});
		assert.equal(await userVersion(path), MIGRATIONS.length + 1);
	});
});

/** The file's PRAGMA user_version, read directly. */
async function userVersion(path: string): Promise<number> {
	const { Database } = await loadSqlite();
	const db = new Database(path);
	try {
		db.exec('PRAGMA locking_mode = EXCLUSIVE');
		return Number(db.get('PRAGMA user_version')?.['user_version']);
	} finally {
		db.close();
	}
}

async function setUserVersion(path: string, version: number): Promise<void> {
	const { Database } = await loadSqlite();
	const db = new Database(path);
	try {
		db.exec(`PRAGMA locking_mode = EXCLUSIVE; PRAGMA user_version = ${version}`);
	} finally {
		db.close();
	}
}
