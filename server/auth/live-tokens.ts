import { MAX_TIMER_DELAY_MS } from '../../protocol/constants';
import { errorMessage } from '../../protocol/errors';
import { Disposable, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Principal } from '../handshake/connection-types';
import type { Logger } from '../shared/log';

/** How often tokens in use are looked up again, for revocations made outside this agent (`--db`). */
export const REVOCATION_POLL_MS = 500;

/** Ends sessions by principal: the agent's client list (`AgentClients`). */
export interface SessionCutter {
	/** Ends every session whose principal matches, telling each client why; how many ended. */
	cut(matches: (principal: Principal) => boolean, reason: string): number;
	/** How many sessions (connected or waiting in their grace) match. */
	count(matches: (principal: Principal) => boolean): number;
}

/** What a token in use is now: still good, or why its sessions must end. */
export type TokenState = 'valid' | 'revoked' | 'expired' | 'unknown';

export interface LiveTokensOptions {
	readonly timers: Timers;
	/** Wall clock, ms since 1970: tokens expire by it. */
	readonly wallClock: () => number;
	readonly log: Logger;
	/** The store's answer for a token now (revoked by another process, deleted). */
	readonly lookUp: (tokenId: string) => Promise<TokenState>;
}

/** A token with sessions on this agent: its expiry timer. */
interface LiveToken {
	readonly expiresAt: number;
	timer: IDisposable;
}

/**
 * The user tokens that sessions on this agent hold. Each gets a timer for its `exp`, and they are
 * looked up in the store every REVOCATION_POLL_MS (so a revocation written by `berth token revoke
 * --db` in another process also cuts within a second); a revoked, expired or deleted token's
 * sessions are cut, the ones waiting in their grace time too. A revocation through this agent
 * (`revoke`) cuts at once.
 */
export class LiveTokens extends Disposable {
	private readonly live = new Map<string, LiveToken>();
	private cutter: SessionCutter | undefined;
	private polling = false;

	constructor(private readonly options: LiveTokensOptions) {
		super();
		this._register(options.timers.interval(() => void this.poll(), REVOCATION_POLL_MS));
		this._register({ dispose: () => this.live.forEach((token) => token.timer.dispose()) });
	}

	/** Where sessions are cut: set once the agent's sessions exist. */
	attach(cutter: SessionCutter): void {
		this.cutter = cutter;
	}

	/** A session was just accepted with this token: watch it until it expires. */
	add(tokenId: string, expiresAt: number): void {
		if (this.live.has(tokenId)) {
			return;
		}
		const token: LiveToken = { expiresAt, timer: this.expiryTimer(tokenId, expiresAt) };
		this.live.set(tokenId, token);
	}

	/** Cuts every session of `tokenId` now, saying why. */
	cut(tokenId: string, state: Exclude<TokenState, 'valid'>): number {
		this.forget(tokenId);
		const reason = CUT_REASONS[state];
		const count = this.cutter?.cut((p) => p.role === 'user' && p.user.tokenId === tokenId, reason) ?? 0;
		if (count > 0) {
			this.options.log.info('sessions cut', { token: tokenId, why: state, sessions: count });
		}
		return count;
	}

	/** Tokens watched now (for tests and the status). */
	get size(): number {
		return this.live.size;
	}

	private expiryTimer(tokenId: string, expiresAt: number): IDisposable {
		const delay = Math.max(0, expiresAt - this.options.wallClock());
		// Past a timer's range, wake up at its end and look again.
		return this.options.timers.timeout(
			() => (delay > MAX_TIMER_DELAY_MS ? this.rearm(tokenId) : this.cut(tokenId, 'expired')),
			Math.min(delay, MAX_TIMER_DELAY_MS),
		);
	}

	private rearm(tokenId: string): void {
		const token = this.live.get(tokenId);
		if (token) {
			token.timer = this.expiryTimer(tokenId, token.expiresAt);
		}
	}

	private forget(tokenId: string): void {
		this.live.get(tokenId)?.timer.dispose();
		this.live.delete(tokenId);
	}

	/** Looks every token in use up again; one poll at a time, however slow the store. */
	private async poll(): Promise<void> {
		if (this.polling || this.live.size === 0) {
			return;
		}
		this.polling = true;
		try {
			for (const tokenId of [...this.live.keys()]) {
				const inUse = this.cutter?.count((p) => p.role === 'user' && p.user.tokenId === tokenId) ?? 0;
				if (inUse === 0) {
					this.forget(tokenId);
					continue;
				}
				const state = await this.options.lookUp(tokenId);
				if (state !== 'valid' && !this.isDisposed) {
					this.cut(tokenId, state);
				}
			}
		} catch (error) {
			this.options.log.warn('could not look tokens up in the store', { error: errorMessage(error) });
		} finally {
			this.polling = false;
		}
	}
}

/** What a cut session's client is told (the `shutdown` event's reason). */
const CUT_REASONS: Record<Exclude<TokenState, 'valid'>, string> = {
	revoked: 'your token was revoked: sign in again',
	expired: 'your token expired: sign in again',
	unknown: 'your token is no longer known to this agent: sign in again',
};
