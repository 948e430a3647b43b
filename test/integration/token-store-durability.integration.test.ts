import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { inlineSqliteWasm } from '../../scripts/inline-sqlite-wasm.mjs';
import { loadSqlite } from '../../server/auth/load-sqlite';
import { openSqliteTokenStore } from '../../server/auth/sqlite-token-store';
import { UserTokens } from '../../server/auth/user-tokens';
import { tempDir } from '../helpers/agent-process';
import { within } from '../helpers/wait';

/**
 * A token reported created survives `kill -9` (issue 10, "Writes are durable"). A process that
 * issues tokens, bundled as dist/server.js is (esbuild with the plugin that inlines SQLite's
 * WebAssembly) and run from a folder with no node_modules, is killed with SIGKILL as soon as it
 * reports a token, or in the middle of a stream of them; the database is then reopened, and
 * every token reported must be there, and the file intact.
 */

const SECRET = 'durability-test-signing-secret-0123456789';
/** Generous bounds that express requirements, never pass/fail timing. */
const PROMPTLY_MS = 20_000;

interface Issued {
	readonly id: string;
	readonly jwt: string;
}

/** The child running, and the tokens it reported, as it reports them. */
interface Child {
	readonly process: ChildProcess;
	readonly issued: Issued[];
	/** Resolves once `count` tokens have been reported. */
	waitFor(count: number): Promise<void>;
	readonly exited: Promise<void>;
}

describe('the token database under kill -9', () => {
	let bundle: string;
	const children: ChildProcess[] = [];

	before(async () => {
		const folder = tempDir('berth-durability-');
		bundle = join(folder, 'child.js');
		await esbuild.build({
			entryPoints: ['test/helpers/token-store-child.ts'],
			outfile: bundle,
			bundle: true,
			platform: 'node',
			format: 'cjs',
			target: 'node20',
			logLevel: 'warning',
			plugins: [inlineSqliteWasm],
		});
		assert.deepEqual(readdirSync(folder), ['child.js'], 'the bundle is one file, no .wasm beside it');
		for (let dir = folder; dir !== dirname(dir); dir = dirname(dir)) {
			assert.ok(!existsSync(join(dir, 'node_modules')), `no node_modules in ${dir}`);
		}
	});

	after(() => {
		for (const child of children) {
			child.kill('SIGKILL');
		}
	});

	function start(db: string, mode: 'one' | 'stream'): Child {
		const child = spawn(process.execPath, [bundle, db, SECRET, mode], {
			cwd: dirname(bundle),
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		children.push(child);
		const issued: Issued[] = [];
		const waiters: { count: number; resolve: () => void }[] = [];
		createInterface({ input: child.stdout! }).on('line', (line) => {
			const [ok, id, jwt] = line.split(' ');
			assert.ok(ok === 'ok' && id && jwt, `a report: ${line}`);
			issued.push({ id, jwt });
			waiters.filter((w) => issued.length >= w.count).forEach((w) => w.resolve());
		});
		const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
		const waitFor = (count: number) =>
			issued.length >= count
				? Promise.resolve()
				: new Promise<void>((resolve) => waiters.push({ count, resolve }));
		return { process: child, issued, waitFor, exited };
	}

	async function killNow(child: Child): Promise<void> {
		child.process.kill('SIGKILL');
		await within(child.exited, PROMPTLY_MS, 'the child to die');
		assert.equal(child.process.signalCode, 'SIGKILL');
	}

	it('keeps a token reported created when the process is killed right after, and opens after the crash', async () => {
		const db = join(tempDir(), 'data', 'tokens.db');
		const child = start(db, 'one');
		await within(child.waitFor(1), PROMPTLY_MS, 'the child to report a token');
		await killNow(child);

		const warnings: string[] = [];
		const store = await openSqliteTokenStore(db, { warn: (message) => warnings.push(message) });
		const tokens = new UserTokens({ store, secret: new TextEncoder().encode(SECRET) });
		try {
			const [reported] = child.issued;
			assert.equal((await store.get(reported!.id))?.email, 'durable@example.com');
			assert.equal((await tokens.verify(reported!.jwt)).type, 'accepted');
			assert.match(warnings.join('\n'), new RegExp(`left locked by process ${child.process.pid}`));
		} finally {
			tokens.dispose();
			store.dispose();
		}
	});

	it('loses none of the tokens it reported when killed in the middle of a stream of inserts, again and again', async () => {
		const db = join(tempDir(), 'tokens.db');
		const reported: Issued[] = [];
		for (const killAfter of [1, 40, 120]) {
			const child = start(db, 'stream');
			await within(child.waitFor(killAfter), PROMPTLY_MS, `the child to report ${killAfter} tokens`);
			await killNow(child); // it was writing the next one: the kill lands inside a transaction
			reported.push(...child.issued);
			const store = await openSqliteTokenStore(db);
			try {
				const kept = new Set((await store.list()).map((t) => t.id));
				const lost = reported.filter((t) => !kept.has(t.id));
				assert.deepEqual(lost, [], `every reported token is kept (${reported.length} so far)`);
			} finally {
				store.dispose();
			}
			assert.equal(await integrityCheck(db), 'ok');
		}
	});
});

/** SQLite's own check of the whole file. */
async function integrityCheck(path: string): Promise<unknown> {
	const { Database } = await loadSqlite();
	const db = new Database(path);
	try {
		db.exec('PRAGMA locking_mode = EXCLUSIVE');
		return db.get('PRAGMA integrity_check')?.['integrity_check'];
	} finally {
		db.close();
	}
}
