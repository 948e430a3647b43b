import type { IDisposable } from '../../protocol/lifecycle';

/**
 * The token database's interface: what the agent needs from wherever user tokens are kept.
 * SQLite (sqlite-token-store.ts) is the default and memory-token-store.ts serves tests; a store
 * shared by agents behind a load balancer (PostgreSQL) is one more file that implements this.
 */

/** What a user token lets its holder be: a client (forwards, proxies), or one of the proxy's relay roles. */
export type TokenRole = 'client' | 'provider' | 'connector';
export const TOKEN_ROLES: readonly TokenRole[] = ['client', 'provider', 'connector'];

export function isTokenRole(value: unknown): value is TokenRole {
	return typeof value === 'string' && (TOKEN_ROLES as readonly string[]).includes(value);
}

/** One issued user token, as stored. Times are ms since the epoch. */
export interface TokenRecord {
	/** The JWT's `jti`. */
	readonly id: string;
	/** The JWT's `sub`: the same for every token of one email (see TokenStore.userIdFor). */
	readonly userId: string;
	readonly email: string;
	/** What the token is for, in the owner's words ("laptop", "ci"); may be empty. */
	readonly name: string;
	readonly role: TokenRole;
	/** The SHA-256 of the JWT's text, in lowercase hex. The JWT itself is never stored. */
	readonly sha256: string;
	readonly createdAt: number;
	readonly expiresAt: number;
	readonly lastUsedAt?: number;
	readonly revokedAt?: number;
}

export interface TokenListFilter {
	readonly userId?: string;
}

/**
 * Where user tokens are kept. Every method resolves once the change is durable (a store that
 * reports a token created keeps it across a crash), and rejects with a BerthError
 * (BERTH_ERR_STORE) when the storage fails, or BERTH_ERR_CLOSED after dispose.
 */
export interface TokenStore extends IDisposable {
	/** Adds a token; rejects when its id or its sha256 is already there. */
	insert(record: TokenRecord): Promise<void>;
	findByHash(sha256: string): Promise<TokenRecord | undefined>;
	get(id: string): Promise<TokenRecord | undefined>;
	/** Tokens, oldest first, optionally only one user's. */
	list(filter?: TokenListFilter): Promise<readonly TokenRecord[]>;
	/**
	 * Marks a token revoked at `atMs`, once: revoking it again keeps the first time. Resolves with
	 * the record as it is after, or undefined when no token has that id.
	 */
	revoke(id: string, atMs: number): Promise<TokenRecord | undefined>;
	/** Records that the token was used at `atMs` (callers throttle: see UserTokens). */
	touch(id: string, atMs: number): Promise<void>;
	/**
	 * The user id for `email`: the one recorded with that email's first token, or `newId`, which
	 * is recorded now when the email is new. Atomic, so two tokens issued at once for a new email
	 * get the same id.
	 */
	userIdFor(email: string, newId: string, atMs: number): Promise<string>;
}
