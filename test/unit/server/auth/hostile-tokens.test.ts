import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { base64url, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { MemoryTokenStore } from '../../../../server/auth/memory-token-store';
import type { TokenRecord } from '../../../../server/auth/token-store';
import { MAX_USER_TOKEN_CHARS, UserTokens, type TokenVerdict } from '../../../../server/auth/user-tokens';

/**
 * Forged tokens, each refused with the reason that names what is wrong. None reaches the database
 * unless its signature is this agent's, and no verdict carries any part of the token.
 */

const SECRET_TEXT = 'the-agent-signing-secret-0123456789-abcdef';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const NOW = Date.UTC(2030, 0, 1);
const HOUR_S = 3_600;

/** A store that counts lookups: a forgery refused at step 1 must not reach it. */
class CountingStore extends MemoryTokenStore {
	lookups = 0;
	override async findByHash(sha256: string): Promise<TokenRecord | undefined> {
		this.lookups++;
		return super.findByHash(sha256);
	}
}

/** Claims of a token this agent would accept, but for its database. */
function claims(overrides: JWTPayload = {}): JWTPayload {
	const iat = Math.floor(NOW / 1000);
	return {
		jti: randomUUID(),
		sub: randomUUID(),
		email: 'ada@example.com',
		role: 'client',
		iat,
		exp: iat + HOUR_S,
		...overrides,
	};
}

/** Signs `payload` as Berth does (HS256, typ JWT, this agent's secret) unless told otherwise. */
function sign(
	payload: JWTPayload,
	header: { alg?: string; typ?: string } = {},
	key: Uint8Array | CryptoKey = SECRET,
): Promise<string> {
	return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
}

const encode = (value: unknown) =>
	base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('hostile user tokens', () => {
	let genuine: { jwt: string; record: TokenRecord };
	const store = new CountingStore();
	const tokens = new UserTokens({ store, secret: SECRET, now: () => NOW });

	before(async () => {
		genuine = await tokens.issue({ email: 'ada@example.com', role: 'client', ttlMs: HOUR_S * 1000 });
	});
	after(() => tokens.dispose());

	/** Verifies a forgery; checks that the verdict is a refusal and holds no part of the token. */
	async function refusal(jwt: string): Promise<{ reason: string; tokenId?: string; lookups: number }> {
		const lookups = store.lookups;
		const verdict = await tokens.verify(jwt);
		assert.equal(verdict.type, 'refused');
		for (const part of jwt.split('.').filter((p) => p.length > 8)) {
			assert.ok(!JSON.stringify(verdict).includes(part), 'the verdict holds no part of the token');
		}
		const { reason, tokenId } = verdict as Extract<TokenVerdict, { type: 'refused' }>;
		return { reason, ...(tokenId !== undefined ? { tokenId } : {}), lookups: store.lookups - lookups };
	}

	it('accepts the genuine token (so each refusal below is the forgery’s doing)', async () => {
		assert.equal((await tokens.verify(genuine.jwt)).type, 'accepted');
	});

	it('refuses alg none: unsigned (malformed), or with a stolen signature (bad signature)', async () => {
		const unsigned = new UnsecuredJWT(
			claims({ jti: genuine.record.id, sub: genuine.record.userId }),
		).encode();
		const [, payload] = genuine.jwt.split('.');
		const stripped = `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`;
		const noneSigned = `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.${genuine.jwt.split('.')[2]}`;
		// `x.y.` has an empty signature: not even the shape of a signed token.
		assert.deepEqual(await refusal(unsigned), { reason: 'malformed', lookups: 0 });
		assert.deepEqual(await refusal(stripped), { reason: 'malformed', lookups: 0 });
		assert.deepEqual(await refusal(noneSigned), { reason: 'bad-signature', lookups: 0 });
	});

	it('refuses a token signed with another key', async () => {
		const other = new TextEncoder().encode('another-secret-of-enough-length-0123456789');
		assert.deepEqual(await refusal(await sign(claims(), {}, other)), { reason: 'bad-signature', lookups: 0 });
	});

	it('refuses the genuine token with its payload changed (role, email, exp), signature kept', async () => {
		const [header, payload, signature] = genuine.jwt.split('.') as [string, string, string];
		const original = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as JWTPayload;
		for (const change of [
			{ role: 'provider' },
			{ email: 'eve@example.com' },
			{ exp: (original.exp ?? 0) + 86_400 * 365 },
		]) {
			const tampered = `${header}.${encode({ ...original, ...change })}.${signature}`;
			assert.deepEqual(
				await refusal(tampered),
				{ reason: 'bad-signature', lookups: 0 },
				JSON.stringify(change),
			);
		}
	});

	it('refuses a token without exp (or iat, jti, sub), even signed with the right key', async () => {
		for (const claim of ['exp', 'iat', 'jti', 'sub'] as const) {
			const payload = claims();
			delete payload[claim];
			assert.deepEqual(await refusal(await sign(payload)), { reason: 'malformed', lookups: 0 }, claim);
		}
	});

	it('refuses a token used before its iat, beyond the clock tolerance', async () => {
		const iat = Math.floor(NOW / 1000) + HOUR_S;
		const payload = claims({ iat, exp: iat + HOUR_S });
		assert.deepEqual(await refusal(await sign(payload)), {
			reason: 'not-yet-valid',
			tokenId: payload.jti,
			lookups: 0,
		});
	});

	it('refuses a huge token (1 MiB) before parsing it, at once', async () => {
		const started = Date.now();
		const huge = `${encode({ alg: 'HS256', typ: 'JWT' })}.${'A'.repeat(1024 * 1024)}.${'B'.repeat(43)}`;
		assert.deepEqual(await refusal(huge), { reason: 'malformed', lookups: 0 });
		assert.deepEqual(await refusal('x'.repeat(MAX_USER_TOKEN_CHARS + 1)), {
			reason: 'malformed',
			lookups: 0,
		});
		assert.ok(Date.now() - started < 1_000, 'within a second');
	});

	it('refuses an RS256 token, and an HS256 token keyed with the RSA public key (algorithm confusion)', async () => {
		const { privateKey, publicKey } = await generateKeyPair('RS256');
		const rs256 = await sign(claims(), { alg: 'RS256' }, privateKey);
		assert.deepEqual(await refusal(rs256), { reason: 'bad-signature', lookups: 0 });
		const pem = new TextEncoder().encode(await exportSPKI(publicKey));
		const confused = await sign(claims(), { alg: 'HS256' }, pem);
		assert.deepEqual(await refusal(confused), { reason: 'bad-signature', lookups: 0 });
	});

	it('refuses another HMAC (HS512) even with the right secret: one algorithm, no other', async () => {
		assert.deepEqual(await refusal(await sign(claims(), { alg: 'HS512' })), {
			reason: 'bad-signature',
			lookups: 0,
		});
	});

	it('refuses a header that is not JSON, or not an object, and parts that are not base64url', async () => {
		const [, payload, signature] = genuine.jwt.split('.');
		for (const header of [encode('{not json'), encode('"a string"'), encode('[]')]) {
			assert.deepEqual(await refusal(`${header}.${payload}.${signature}`), {
				reason: 'malformed',
				lookups: 0,
			});
		}
		assert.deepEqual(await refusal(`${genuine.jwt}.extra.parts`), { reason: 'malformed', lookups: 0 });
		assert.deepEqual(await refusal(genuine.jwt.replace('.', '.+/')), { reason: 'malformed', lookups: 0 });
	});

	it('refuses a wrong typ, or none, even signed with the right key', async () => {
		assert.deepEqual(await refusal(await sign(claims(), { typ: 'at+jwt' })), {
			reason: 'malformed',
			lookups: 0,
		});
		const untyped = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(SECRET);
		assert.deepEqual(await refusal(untyped), { reason: 'malformed', lookups: 0 });
	});

	it('refuses a role that is not client, provider or connector, and claims of the wrong type', async () => {
		const wrong: JWTPayload[] = [
			claims({ role: 'admin' }),
			claims({ role: undefined }),
			claims({ role: ['client'] }),
			claims({ jti: 42 as unknown as string }),
			claims({ jti: 'not-a-uuid' }),
			claims({ sub: '' }),
			claims({ email: { address: 'ada@example.com' } }),
			claims({ exp: `${Math.floor(NOW / 1000) + HOUR_S}` as unknown as number }),
			claims({ iat: 1.5 }),
		];
		for (const payload of wrong) {
			assert.deepEqual(
				await refusal(await sign(payload)),
				{ reason: 'malformed', lookups: 0 },
				JSON.stringify(payload),
			);
		}
	});
});
