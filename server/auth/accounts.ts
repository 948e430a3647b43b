import { isJwtShaped } from '../../protocol/jwt-shape';
import { Disposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import type { BearerVerdict, BearerVerifier } from './bearer-verifier';
import { LiveTokens, type SessionCutter, type TokenState } from './live-tokens';
import type { TokenRecord, TokenStore } from './token-store';
import type { UserTokens } from './user-tokens';

export interface AccountsOptions {
	readonly tokens: UserTokens;
	readonly store: TokenStore;
	readonly timers: Timers;
	/** Wall clock, ms since 1970 (tokens expire by it). */
	readonly wallClock: () => number;
	readonly log: Logger;
}

/**
 * The agent's user accounts (`--accounts`): user tokens checked on every connection (signature,
 * then the store), and the tokens in use watched, so that a revocation or an expiry ends their
 * sessions within a second, those waiting in their grace time too.
 */
export class Accounts extends Disposable implements BearerVerifier {
	private readonly live: LiveTokens;

	constructor(private readonly options: AccountsOptions) {
		super();
		this.live = this._register(
			new LiveTokens({
				timers: options.timers,
				wallClock: options.wallClock,
				log: options.log.fork('tokens'),
				lookUp: async (id) => stateOf(await options.store.get(id), options.wallClock()),
			}),
		);
		this._register(options.tokens.onDidRevoke((record) => this.live.cut(record.id, 'revoked')));
	}

	/** Where sessions are cut: the agent's client list, once it exists. */
	attach(cutter: SessionCutter): void {
		this.live.attach(cutter);
	}

	verify(auth: string): Promise<BearerVerdict> | undefined {
		return isJwtShaped(auth) ? this.check(auth) : undefined;
	}

	private async check(jwt: string): Promise<BearerVerdict> {
		const verdict = await this.options.tokens.verify(jwt);
		if (verdict.type === 'refused') {
			return {
				type: 'refused',
				why: verdict.reason,
				...(verdict.tokenId !== undefined ? { tokenId: verdict.tokenId } : {}),
			};
		}
		const { id, userId, email, role, expiresAt } = verdict.record;
		this.live.add(id, expiresAt);
		return { type: 'accepted', user: { userId, email, tokenId: id, role, expiresAt } };
	}
}

/** What a stored token is now, for the sessions that hold it. */
function stateOf(record: TokenRecord | undefined, now: number): TokenState {
	if (!record) {
		return 'unknown';
	}
	if (record.revokedAt !== undefined) {
		return 'revoked';
	}
	return record.expiresAt <= now ? 'expired' : 'valid';
}
