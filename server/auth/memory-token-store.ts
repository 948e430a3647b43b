import { BerthError } from '../../protocol/errors';
import type { TokenListFilter, TokenRecord, TokenStore } from './token-store';

/**
 * A TokenStore in memory, for tests of the modules that use one (it keeps nothing across a
 * restart, so the agent never uses it). It keeps the SQLite store's rules: unique ids and hashes,
 * revocation once, the first user id of an email.
 */
export class MemoryTokenStore implements TokenStore {
	private readonly tokens = new Map<string, TokenRecord>();
	private readonly users = new Map<string, string>();
	private disposed = false;

	async insert(record: TokenRecord): Promise<void> {
		this.assertOpen();
		const taken = [...this.tokens.values()].some((t) => t.id === record.id || t.sha256 === record.sha256);
		if (taken) {
			throw new BerthError(
				'BERTH_ERR_STORE',
				`a token with id ${record.id} or the same hash is stored already`,
			);
		}
		this.tokens.set(record.id, { ...record });
	}

	async findByHash(sha256: string): Promise<TokenRecord | undefined> {
		this.assertOpen();
		return [...this.tokens.values()].find((t) => t.sha256 === sha256);
	}

	async get(id: string): Promise<TokenRecord | undefined> {
		this.assertOpen();
		return this.tokens.get(id);
	}

	async list(filter: TokenListFilter = {}): Promise<readonly TokenRecord[]> {
		this.assertOpen();
		return [...this.tokens.values()]
			.filter((t) => filter.userId === undefined || t.userId === filter.userId)
			.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
	}

	async revoke(id: string, atMs: number): Promise<TokenRecord | undefined> {
		this.assertOpen();
		const record = this.tokens.get(id);
		if (record === undefined || record.revokedAt !== undefined) {
			return record;
		}
		const revoked = { ...record, revokedAt: atMs };
		this.tokens.set(id, revoked);
		return revoked;
	}

	async touch(id: string, atMs: number): Promise<void> {
		this.assertOpen();
		const record = this.tokens.get(id);
		if (record !== undefined) {
			this.tokens.set(id, { ...record, lastUsedAt: atMs });
		}
	}

	async userIdFor(email: string, newId: string): Promise<string> {
		this.assertOpen();
		const known = this.users.get(email);
		if (known !== undefined) {
			return known;
		}
		this.users.set(email, newId);
		return newId;
	}

	dispose(): void {
		this.disposed = true;
	}

	private assertOpen(): void {
		if (this.disposed) {
			throw new BerthError('BERTH_ERR_CLOSED', 'the token store is closed');
		}
	}
}
