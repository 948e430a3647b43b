import { createHash, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter, type Event } from '../../protocol/lifecycle';
import { isTokenRole, type TokenRecord, type TokenRole, type TokenStore } from './token-store';

/**
 * User tokens: HS256 JWTs that the agent issues and checks, with their records in a TokenStore.
 * jose does every JWT operation (signing, parsing, the signature, `exp`); this module adds the
 * bounds before parsing, the claim types, and the database checks, in the seed's order:
 *
 *     1. the signature and exp     HS256 only; anything else is refused before a key is used
 *     2. the database              the token exists (by SHA-256), is not revoked, has not passed expires_at
 *     3. last_used_at              written at most once a minute per token
 *
 * A refusal says why, with the token's id once its signature has been checked (never before: an
 * unsigned id is the sender's word), and never the token.
 */

/** The one signing algorithm. A token that names another (`none`, RS256, HS512) is refused. */
export const JWT_ALGORITHM = 'HS256';
/** The `typ` header of Berth's user tokens. */
export const JWT_TYPE = 'JWT';
/** The fewest bytes in a signing secret: HS256's key should be as long as its hash (32 bytes). */
export const MIN_JWT_SECRET_BYTES = 32;
/** The longest token read (4 KiB): Berth's are about 400 characters; a longer one is not parsed at all. */
export const MAX_USER_TOKEN_CHARS = 4 * 1024;
/** How often at most `last_used_at` is written per token (1 min): a connection storm is not a write storm. */
export const LAST_USED_INTERVAL_MS = 60_000;
/** How far in the future `iat` may be (30 s), for a clock that was set back a little since the token was issued. */
export const IAT_CLOCK_TOLERANCE_MS = 30_000;
/** The longest lifetime a token can be given (10 years). */
export const MAX_USER_TOKEN_TTL_MS = 3650 * 86_400_000;
const MIN_USER_TOKEN_TTL_MS = 1_000;
const MAX_EMAIL_CHARS = 254;
const MAX_NAME_CHARS = 128;
const MAX_USER_ID_CHARS = 128;
/** How many tokens' last writes are remembered before the old ones are forgotten. */
const MAX_TOUCH_ENTRIES = 10_000;

/** Three base64url parts: the only shape of a signed compact JWT. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Token ids and user ids are UUIDs (randomUUID); anything else was not issued here. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface UserTokensOptions {
	readonly store: TokenStore;
	/** The signing secret's bytes (jwt-secret.ts): at least MIN_JWT_SECRET_BYTES. */
	readonly secret: Uint8Array;
	/** The clock, in ms since the epoch (tests move it). */
	readonly now?: () => number;
	/** Makes token and user ids (randomUUID by default). */
	readonly newId?: () => string;
}

export interface IssueRequest {
	readonly email: string;
	/** What the token is for ("laptop", "ci"); empty by default. */
	readonly name?: string;
	readonly role: TokenRole;
	readonly ttlMs: number;
	/** The user's id; by default the one the store has for this email, or a new one. */
	readonly userId?: string;
}

export interface IssuedToken {
	/** The token itself: shown to its user once, never stored. */
	readonly jwt: string;
	readonly record: TokenRecord;
}

export type TokenRefusalReason =
	| 'malformed' // not a JWT of Berth's shape: too long, not three parts, bad JSON, a claim missing or of the wrong type
	| 'bad-signature' // not signed with this agent's secret by HS256 (a forgery, another agent's, another algorithm)
	| 'not-yet-valid' // issued in the future (`iat`), beyond the clock tolerance
	| 'expired'
	| 'unknown' // validly signed, but not in the database (issued with the same secret by another database)
	| 'revoked';

export type TokenVerdict =
	| { readonly type: 'accepted'; readonly record: TokenRecord }
	| { readonly type: 'refused'; readonly reason: TokenRefusalReason; readonly tokenId?: string };

/** The claims a verified token must carry, with their types checked. */
interface BerthClaims {
	readonly jti: string;
	readonly sub: string;
	readonly email: string;
	readonly role: TokenRole;
	readonly iat: number;
	readonly exp: number;
}

/** The lowercase hex SHA-256 of a token's text: how the store finds it. */
export function tokenHash(jwt: string): string {
	return createHash('sha256').update(jwt, 'utf8').digest('hex');
}

/**
 * Issues and verifies user tokens against one store. Disposing it stops its events; the store is
 * the caller's to dispose.
 */
export class UserTokens extends Disposable {
	private readonly store: TokenStore;
	private readonly secret: Uint8Array;
	private readonly now: () => number;
	private readonly newId: () => string;
	/** When each token's last_used_at was last written (ms). */
	private readonly lastTouched = new Map<string, number>();
	private readonly _onDidRevoke = this._register(new Emitter<TokenRecord>());
	/** Fires when revoke() revokes a token (not again for one revoked already): sessions that use it end. */
	readonly onDidRevoke: Event<TokenRecord> = this._onDidRevoke.event;

	constructor(options: UserTokensOptions) {
		super();
		if (options.secret.byteLength < MIN_JWT_SECRET_BYTES) {
			throw new BerthError(
				'BERTH_ERR_INTERNAL',
				`a JWT signing secret needs at least ${MIN_JWT_SECRET_BYTES} bytes (got ${options.secret.byteLength})`,
			);
		}
		this.store = options.store;
		this.secret = options.secret;
		this.now = options.now ?? Date.now;
		this.newId = options.newId ?? randomUUID;
	}

	/**
	 * Signs a new token and records it. The email is kept in lowercase.
	 * @throws BerthError BERTH_ERR_USAGE for an email, name or lifetime that breaks the rules;
	 * BERTH_ERR_STORE when the store fails.
	 */
	async issue(request: IssueRequest): Promise<IssuedToken> {
		const email = checkEmail(request.email);
		const name = checkName(request.name ?? '');
		const ttlMs = checkTtl(request.ttlMs);
		const now = this.now();
		const userId = request.userId ?? (await this.store.userIdFor(email, this.newId(), now));
		if (!isUserId(userId)) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`a user id has 1 to ${MAX_USER_ID_CHARS} characters and no control characters`,
			);
		}
		const id = this.newId();
		const iat = Math.floor(now / 1000);
		const exp = Math.floor((now + ttlMs) / 1000);
		const jwt = await new SignJWT({ email, role: request.role })
			.setProtectedHeader({ alg: JWT_ALGORITHM, typ: JWT_TYPE })
			.setJti(id)
			.setSubject(userId)
			.setIssuedAt(iat)
			.setExpirationTime(exp)
			.sign(this.secret);
		const record: TokenRecord = {
			id,
			userId,
			email,
			name,
			role: request.role,
			sha256: tokenHash(jwt),
			createdAt: now,
			expiresAt: exp * 1000, // the same instant as the JWT's exp, to the second
		};
		await this.store.insert(record);
		return { jwt, record };
	}

	/**
	 * Checks a token presented by a client. Never throws for what the client sent: every problem
	 * with the token is a refusal with its reason.
	 * @throws BerthError BERTH_ERR_STORE when the store fails (the caller refuses the client).
	 */
	async verify(jwt: string): Promise<TokenVerdict> {
		const checked = await this.checkSignedClaims(jwt);
		if ('reason' in checked) {
			return { type: 'refused', ...checked };
		}
		const claims = checked;
		const now = this.now();
		if (claims.iat * 1000 > now + IAT_CLOCK_TOLERANCE_MS) {
			return { type: 'refused', reason: 'not-yet-valid', tokenId: claims.jti };
		}
		const record = await this.store.findByHash(tokenHash(jwt));
		if (record === undefined || record.id !== claims.jti || record.userId !== claims.sub) {
			return { type: 'refused', reason: 'unknown', tokenId: claims.jti };
		}
		if (record.revokedAt !== undefined) {
			return { type: 'refused', reason: 'revoked', tokenId: record.id };
		}
		if (record.expiresAt <= now) {
			return { type: 'refused', reason: 'expired', tokenId: record.id };
		}
		return { type: 'accepted', record: await this.touch(record, now) };
	}

	/**
	 * Revokes a token now; the record after, or undefined when no token has that id. Fires
	 * onDidRevoke unless it was revoked already (two revokes at the same instant may both fire:
	 * ending a token's sessions twice is harmless).
	 */
	async revoke(id: string): Promise<TokenRecord | undefined> {
		const before = await this.store.get(id);
		if (before === undefined || before.revokedAt !== undefined) {
			return before;
		}
		const record = await this.store.revoke(id, this.now());
		if (record !== undefined) {
			this._onDidRevoke.fire(record);
		}
		return record;
	}

	/** Step 1: jose checks the shape, the algorithm, the signature and exp; then the claims' types. */
	private async checkSignedClaims(
		jwt: string,
	): Promise<BerthClaims | { reason: TokenRefusalReason; tokenId?: string }> {
		// Bounded before anything parses it: a megabyte of base64 costs nothing to refuse here.
		if (jwt.length > MAX_USER_TOKEN_CHARS || !COMPACT_JWS.test(jwt)) {
			return { reason: 'malformed' };
		}
		let payload: JWTPayload;
		try {
			({ payload } = await jwtVerify(jwt, this.secret, {
				algorithms: [JWT_ALGORITHM],
				typ: JWT_TYPE,
				requiredClaims: ['jti', 'sub', 'iat', 'exp'],
				currentDate: new Date(this.now()),
			}));
		} catch (error) {
			return refusalFor(error);
		}
		return berthClaims(payload) ?? { reason: 'malformed' };
	}

	/** Step 3: writes last_used_at when this token's last write is a minute old or more. */
	private async touch(record: TokenRecord, now: number): Promise<TokenRecord> {
		const last = this.lastTouched.get(record.id);
		if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) {
			return record;
		}
		if (this.lastTouched.size >= MAX_TOUCH_ENTRIES) {
			this.forgetTouchesBefore(now - LAST_USED_INTERVAL_MS);
		}
		this.lastTouched.set(record.id, now);
		await this.store.touch(record.id, now);
		return { ...record, lastUsedAt: now };
	}

	private forgetTouchesBefore(cutoff: number): void {
		for (const [id, at] of this.lastTouched) {
			if (at < cutoff) {
				this.lastTouched.delete(id);
			}
		}
	}
}

/**
 * Why jose refused a token, by its error code. An expired token's id is given: its signature was
 * checked before its exp. Anything else jose throws means the token could not be read.
 */
function refusalFor(error: unknown): { reason: TokenRefusalReason; tokenId?: string } {
	if (error instanceof joseErrors.JWTExpired) {
		const jti = error.payload.jti;
		return { reason: 'expired', ...(typeof jti === 'string' && UUID.test(jti) ? { tokenId: jti } : {}) };
	}
	if (
		error instanceof joseErrors.JWSSignatureVerificationFailed ||
		error instanceof joseErrors.JOSEAlgNotAllowed ||
		error instanceof joseErrors.JOSENotSupported
	) {
		return { reason: 'bad-signature' };
	}
	return { reason: 'malformed' };
}

/** The payload's claims, if each has Berth's type; undefined otherwise. */
function berthClaims(payload: JWTPayload): BerthClaims | undefined {
	const { jti, sub, iat, exp } = payload;
	const { email, role } = payload as { email?: unknown; role?: unknown };
	const valid =
		typeof jti === 'string' &&
		UUID.test(jti) &&
		typeof sub === 'string' &&
		isUserId(sub) &&
		typeof email === 'string' &&
		email.length <= MAX_EMAIL_CHARS &&
		isTokenRole(role) &&
		Number.isSafeInteger(iat) &&
		Number.isSafeInteger(exp);
	return valid ? { jti, sub, email, role, iat: iat as number, exp: exp as number } : undefined;
}

function isUserId(value: string): boolean {
	return value.length > 0 && value.length <= MAX_USER_ID_CHARS && !CONTROL.test(value);
}

function checkEmail(email: string): string {
	const normalized = email.trim().toLowerCase();
	if (normalized.length > MAX_EMAIL_CHARS || !EMAIL.test(normalized) || CONTROL.test(normalized)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`"${email.slice(0, 80)}" is not an email address: give one such as user@example.com`,
		);
	}
	return normalized;
}

function checkName(name: string): string {
	if (name.length > MAX_NAME_CHARS || CONTROL.test(name)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`a token name has at most ${MAX_NAME_CHARS} characters and no control characters`,
		);
	}
	return name;
}

function checkTtl(ttlMs: number): number {
	if (!Number.isSafeInteger(ttlMs) || ttlMs < MIN_USER_TOKEN_TTL_MS || ttlMs > MAX_USER_TOKEN_TTL_MS) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`a token lives from 1 s to 10 years (3650d); ${ttlMs} ms is not in that range`,
		);
	}
	return ttlMs;
}
