import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { MemoryTokenStore } from '../../../../server/auth/memory-token-store';
import { openSqliteTokenStore } from '../../../../server/auth/sqlite-token-store';
import type { TokenRecord, TokenStore } from '../../../../server/auth/token-store';
import {
	IAT_CLOCK_TOLERANCE_MS,
	LAST_USED_INTERVAL_MS,
	UserTokens,
	type UserTokensOptions,
} from '../../../../server/auth/user-tokens';
import { ensureNoLeaks } from '../../../helpers/leaks';

const SECRET = new TextEncoder().encode('a-signing-secret-of-forty-bytes-or-so-00');
const DAY_MS = 86_400_000;
const START = Date.UTC(2030, 0, 1);

/** UserTokens on a clock the test moves, over a store (a fresh MemoryTokenStore unless given). */
function setup(options: Partial<UserTokensOptions> = {}) {
	const clock = { now: START };
	const store = options.store ?? new MemoryTokenStore();
	const tokens = new UserTokens({ secret: SECRET, now: () => clock.now, ...options, store });
	return { clock, store, tokens };
}

/** A store that counts the calls made to it. */
class CountingStore extends MemoryTokenStore {
	touches = 0;
	lookups = 0;
	override async touch(id: string, atMs: number): Promise<void> {
		this.touches++;
		return super.touch(id, atMs);
	}
	override async findByHash(sha256: string): Promise<TokenRecord | undefined> {
		this.lookups++;
		return super.findByHash(sha256);
	}
}

describe('UserTokens.issue', () => {
	const leaks = ensureNoLeaks();

	it('signs an HS256 JWT with jti, sub, email, role, iat and exp, and stores its hash, not itself', async () => {
		const { tokens, store } = setup();
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({
			email: 'Ada@Example.com',
			name: 'laptop',
			role: 'provider',
			ttlMs: 30 * DAY_MS,
		});
		assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'HS256', typ: 'JWT' });
		assert.deepEqual(decodeJwt(jwt), {
			jti: record.id,
			sub: record.userId,
			email: 'ada@example.com',
			role: 'provider',
			iat: START / 1000,
			exp: START / 1000 + 30 * 86_400,
		});
		assert.deepEqual(record, {
			id: record.id,
			userId: record.userId,
			email: 'ada@example.com',
			name: 'laptop',
			role: 'provider',
			sha256: createHash('sha256').update(jwt).digest('hex'),
			createdAt: START,
			expiresAt: START + 30 * DAY_MS,
		});
		assert.match(record.id, /^[0-9a-f-]{36}$/);
		assert.deepEqual(await store.list(), [record]);
		assert.ok(!JSON.stringify(await store.list()).includes(jwt.split('.')[2]!), 'the JWT is not stored');
		tokens.dispose();
	});

	it('gives every token of one email (in any case) the same user id, and another email another', async () => {
		const { tokens } = setup();
		leaks.track(tokens);
		const first = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		const second = await tokens.issue({ email: ' ADA@example.com ', role: 'connector', ttlMs: DAY_MS });
		const other = await tokens.issue({ email: 'bob@example.com', role: 'client', ttlMs: DAY_MS });
		const given = await tokens.issue({
			email: 'carol@example.com',
			role: 'client',
			ttlMs: DAY_MS,
			userId: 'u-42',
		});
		assert.equal(second.record.userId, first.record.userId);
		assert.notEqual(other.record.userId, first.record.userId);
		assert.notEqual(second.record.id, first.record.id);
		assert.equal(given.record.userId, 'u-42');
		tokens.dispose();
	});

	it('refuses a bad email, name or lifetime, saying what is wrong, and stores nothing', async () => {
		const { tokens, store } = setup();
		leaks.track(tokens);
		const cases: [Parameters<UserTokens['issue']>[0], RegExp][] = [
			[{ email: 'not-an-email', role: 'client', ttlMs: DAY_MS }, /is not an email address/],
			[{ email: 'a b@example.com', role: 'client', ttlMs: DAY_MS }, /is not an email address/],
			[{ email: `${'a'.repeat(250)}@example.com`, role: 'client', ttlMs: DAY_MS }, /is not an email/],
			[{ email: 'ada@example.com', name: 'x'.repeat(129), role: 'client', ttlMs: DAY_MS }, /at most 128/],
			[{ email: 'ada@example.com', name: 'bell\u0007', role: 'client', ttlMs: DAY_MS }, /control/],
			[{ email: 'ada@example.com', role: 'client', ttlMs: 0 }, /from 1 s to 10 years/],
			[{ email: 'ada@example.com', role: 'client', ttlMs: 3651 * DAY_MS }, /from 1 s to 10 years/],
			[{ email: 'ada@example.com', role: 'client', ttlMs: 1.5 }, /from 1 s to 10 years/],
		];
		for (const [request, message] of cases) {
			await assert.rejects(tokens.issue(request), { code: 'BERTH_ERR_USAGE', message });
		}
		assert.deepEqual(await store.list(), []);
		tokens.dispose();
	});

	it('refuses a signing secret shorter than 32 bytes', () => {
		assert.throws(
			() => new UserTokens({ store: new MemoryTokenStore(), secret: new Uint8Array(31) }),
			/at least 32 bytes/,
		);
	});
});

describe('UserTokens.verify', () => {
	const leaks = ensureNoLeaks();

	it('accepts a token it issued, with its record', async () => {
		const { tokens } = setup();
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		assert.deepEqual(await tokens.verify(jwt), {
			type: 'accepted',
			record: { ...record, lastUsedAt: START },
		});
		tokens.dispose();
	});

	it('refuses a token at its exp and after, as expired, with its id', async () => {
		const { tokens, clock } = setup();
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		clock.now = START + DAY_MS - 1_000;
		assert.equal((await tokens.verify(jwt)).type, 'accepted');
		for (const at of [START + DAY_MS, START + 2 * DAY_MS]) {
			clock.now = at;
			assert.deepEqual(await tokens.verify(jwt), { type: 'refused', reason: 'expired', tokenId: record.id });
		}
		tokens.dispose();
	});

	it('refuses a token whose record expires before its JWT does, as expired (the database decides too)', async () => {
		const store = new MemoryTokenStore();
		const { tokens } = setup({ store });
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		const shortened = new MemoryTokenStore();
		await shortened.insert({ ...record, expiresAt: START + 1_000 });
		const { tokens: checker, clock } = setup({ store: shortened });
		leaks.track(checker);
		clock.now = START + 2_000;
		assert.deepEqual(await checker.verify(jwt), { type: 'refused', reason: 'expired', tokenId: record.id });
		tokens.dispose();
		checker.dispose();
	});

	it('refuses a revoked token, with its id, and tells onDidRevoke once', async () => {
		const { tokens } = setup();
		leaks.track(tokens);
		const revoked: TokenRecord[] = [];
		const subscription = leaks.track(tokens.onDidRevoke((record) => revoked.push(record)));
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		assert.equal((await tokens.revoke(record.id))?.revokedAt, START);
		assert.equal((await tokens.revoke(record.id))?.revokedAt, START);
		assert.equal(await tokens.revoke('no-such-token'), undefined);
		assert.deepEqual(await tokens.verify(jwt), { type: 'refused', reason: 'revoked', tokenId: record.id });
		assert.deepEqual(
			revoked.map((r) => r.id),
			[record.id],
		);
		subscription.dispose();
		tokens.dispose();
	});

	it('refuses a validly signed token that its database does not hold, as unknown', async () => {
		const { tokens: issuer } = setup();
		const { tokens: checker } = setup(); // the same secret, another database
		leaks.track(issuer);
		leaks.track(checker);
		const { jwt, record } = await issuer.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		assert.deepEqual(await checker.verify(jwt), { type: 'refused', reason: 'unknown', tokenId: record.id });
		issuer.dispose();
		checker.dispose();
	});

	it('refuses a token signed with another secret, without an id (it is the sender’s word)', async () => {
		const { tokens: other } = setup({
			secret: new TextEncoder().encode('another-secret-another-secret-another!'),
		});
		const { tokens } = setup();
		leaks.track(other);
		leaks.track(tokens);
		const { jwt } = await other.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		assert.deepEqual(await tokens.verify(jwt), { type: 'refused', reason: 'bad-signature' });
		other.dispose();
		tokens.dispose();
	});

	it(`accepts a token issued up to ${IAT_CLOCK_TOLERANCE_MS / 1000} s in the future (a clock set back), not more`, async () => {
		const { tokens, clock } = setup();
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		clock.now = START - IAT_CLOCK_TOLERANCE_MS;
		assert.equal((await tokens.verify(jwt)).type, 'accepted');
		clock.now = START - IAT_CLOCK_TOLERANCE_MS - 1_000;
		assert.deepEqual(await tokens.verify(jwt), {
			type: 'refused',
			reason: 'not-yet-valid',
			tokenId: record.id,
		});
		tokens.dispose();
	});

	it('writes last_used_at at most once a minute per token, however many connections', async () => {
		const store = new CountingStore();
		const { tokens, clock } = setup({ store });
		leaks.track(tokens);
		const a = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		const b = await tokens.issue({ email: 'bob@example.com', role: 'client', ttlMs: DAY_MS });
		for (let i = 0; i < 100; i++) {
			clock.now = START + i * 500; // a connection every half second, for 50 s
			assert.equal((await tokens.verify(a.jwt)).type, 'accepted');
		}
		assert.equal(store.touches, 1);
		assert.equal((await store.get(a.record.id))?.lastUsedAt, START);
		await tokens.verify(b.jwt); // another token has its own minute
		assert.equal(store.touches, 2);
		clock.now = START + LAST_USED_INTERVAL_MS;
		const verdict = await tokens.verify(a.jwt);
		assert.equal(verdict.type === 'accepted' && verdict.record.lastUsedAt, START + LAST_USED_INTERVAL_MS);
		assert.equal(store.touches, 3);
		assert.equal((await store.get(a.record.id))?.lastUsedAt, START + LAST_USED_INTERVAL_MS);
		tokens.dispose();
	});

	it('works end to end on the SQLite store', async () => {
		const path = join(mkdtempSync(join(tmpdir(), 'berth-user-tokens-')), 'tokens.db');
		const store: TokenStore = leaks.track(await openSqliteTokenStore(path));
		const { tokens } = setup({ store });
		leaks.track(tokens);
		const { jwt, record } = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: DAY_MS });
		assert.equal((await tokens.verify(jwt)).type, 'accepted');
		assert.equal((await store.get(record.id))?.lastUsedAt, START);
		await tokens.revoke(record.id);
		assert.deepEqual(await tokens.verify(jwt), { type: 'refused', reason: 'revoked', tokenId: record.id });
		tokens.dispose();
		store.dispose();
	});
});
