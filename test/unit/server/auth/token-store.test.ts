import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryTokenStore } from '../../../../server/auth/memory-token-store';
import { openSqliteTokenStore } from '../../../../server/auth/sqlite-token-store';
import type { TokenRecord, TokenStore } from '../../../../server/auth/token-store';
import { ensureNoLeaks } from '../../../helpers/leaks';

/** A record with the fields every test needs, and what the test says. */
function record(overrides: Partial<TokenRecord> & Pick<TokenRecord, 'id'>): TokenRecord {
	return {
		userId: 'user-1',
		email: 'ada@example.com',
		name: 'laptop',
		role: 'client',
		sha256: `hash-of-${overrides.id}`,
		createdAt: 1_000,
		expiresAt: 9_000,
		...overrides,
	};
}

const implementations: [string, () => Promise<TokenStore>][] = [
	['MemoryTokenStore', async () => new MemoryTokenStore()],
	[
		'the SQLite store',
		() => openSqliteTokenStore(join(mkdtempSync(join(tmpdir(), 'berth-store-')), 'tokens.db')),
	],
];

// The same specification for every TokenStore: a new store (PostgreSQL) joins this list.
for (const [name, open] of implementations) {
	describe(`TokenStore: ${name}`, () => {
		const leaks = ensureNoLeaks();
		const openStore = async () => leaks.track(await open());

		it('finds an inserted token by id and by hash, with every field as given', async () => {
			const store = await openStore();
			const full = record({ id: 't1', lastUsedAt: 2_000, revokedAt: 3_000, role: 'connector', name: '' });
			const bare = record({ id: 't2' });
			await store.insert(full);
			await store.insert(bare);
			assert.deepEqual(await store.get('t1'), full);
			assert.deepEqual(await store.findByHash('hash-of-t2'), bare);
			assert.equal(await store.get('nope'), undefined);
			assert.equal(await store.findByHash('nope'), undefined);
			store.dispose();
		});

		it('refuses a second token with the same id, or the same hash', async () => {
			const store = await openStore();
			await store.insert(record({ id: 't1' }));
			await assert.rejects(store.insert(record({ id: 't1', sha256: 'other' })), { code: 'BERTH_ERR_STORE' });
			await assert.rejects(store.insert(record({ id: 't2', sha256: 'hash-of-t1' })), {
				code: 'BERTH_ERR_STORE',
			});
			assert.equal((await store.list()).length, 1);
			store.dispose();
		});

		it('lists tokens oldest first, all or one user’s', async () => {
			const store = await openStore();
			await store.insert(record({ id: 'late', createdAt: 3_000, userId: 'user-1' }));
			await store.insert(record({ id: 'early', createdAt: 1_000, userId: 'user-2' }));
			await store.insert(record({ id: 'middle', createdAt: 2_000, userId: 'user-1' }));
			assert.deepEqual(
				(await store.list()).map((t) => t.id),
				['early', 'middle', 'late'],
			);
			assert.deepEqual(
				(await store.list({ userId: 'user-1' })).map((t) => t.id),
				['middle', 'late'],
			);
			assert.deepEqual(await store.list({ userId: 'nobody' }), []);
			store.dispose();
		});

		it('revokes once: a second revoke keeps the first time; an unknown id is undefined', async () => {
			const store = await openStore();
			await store.insert(record({ id: 't1' }));
			assert.equal((await store.revoke('t1', 5_000))?.revokedAt, 5_000);
			assert.equal((await store.revoke('t1', 6_000))?.revokedAt, 5_000);
			assert.equal((await store.get('t1'))?.revokedAt, 5_000);
			assert.equal(await store.revoke('nope', 5_000), undefined);
			store.dispose();
		});

		it('touch records the last use, and leaves other tokens alone', async () => {
			const store = await openStore();
			await store.insert(record({ id: 't1' }));
			await store.insert(record({ id: 't2' }));
			await store.touch('t1', 4_000);
			await store.touch('t1', 7_000);
			await store.touch('nope', 7_000);
			assert.equal((await store.get('t1'))?.lastUsedAt, 7_000);
			assert.equal((await store.get('t2'))?.lastUsedAt, undefined);
			store.dispose();
		});

		it('gives an email the id it was first given', async () => {
			const store = await openStore();
			assert.equal(await store.userIdFor('ada@example.com', 'id-a', 1), 'id-a');
			assert.equal(await store.userIdFor('ada@example.com', 'id-b', 2), 'id-a');
			assert.equal(await store.userIdFor('bob@example.com', 'id-c', 3), 'id-c');
			store.dispose();
		});

		it('refuses every call once disposed, and disposing twice is harmless', async () => {
			const store = await openStore();
			store.dispose();
			store.dispose();
			await assert.rejects(store.get('t1'), { code: 'BERTH_ERR_CLOSED' });
			await assert.rejects(store.insert(record({ id: 't1' })), { code: 'BERTH_ERR_CLOSED' });
		});
	});
}
