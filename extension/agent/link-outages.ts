/**
 * The drops of one connection to an agent, as its link state reports them: when the current
 * outage began, how many there were, and how the last one ended. An outage runs from the first
 * `reconnecting` to the next `connected` (however many attempts it took); it ends `resumed` when
 * the same session came back (no connection lost), `lost` when a new session replaced one the
 * agent no longer held. Pure apart from the clock it is given, so it is unit-tested.
 */

import { UNREACHABLE_WHILE_RECONNECTING, type LinkState } from '../../server/client/index';

/** How an outage ended: the same session came back, or a new one replaced it (its connections lost). */
export type OutageEnd = 'resumed' | 'lost';

/** One outage that is over. */
export interface PastOutage {
	readonly end: OutageEnd;
	readonly durationMs: number;
	/** Why connections failed during it (the first reason), when any did: what a lost session tells. */
	readonly failure?: string;
}

/** The drops of a connection so far (only once there was one). */
export interface OutageSummary {
	/** Outages since connecting, the last one included. */
	readonly drops: number;
	readonly last: PastOutage;
}

/**
 * A link being reconnected, as the extension shows it (connection.ts's ConnectionStatus, the
 * panel's and the status bar's models).
 */
export interface ReconnectingStatus {
	readonly type: 'reconnecting';
	/** The next attempt, and the wait before it. */
	readonly attempt: number;
	readonly delayMs: number;
	readonly lastError?: string;
	/**
	 * true: the agent holds the session, and its connections wait to go on; false: a new session
	 * is being opened (the old one's connections were lost); absent: unknown (an ssh tunnel).
	 */
	readonly resuming?: boolean;
	/** How long the link has been down so far. */
	readonly outageMs?: number;
}

/** Follows a link's states and keeps its outages (connection.ts holds one per connection). */
export class LinkOutages {
	private startedAt: number | undefined;
	private failure: string | undefined;
	/** A connection made during the outage gave up waiting: the reason only when there is no other. */
	private gaveUp: string | undefined;
	private drops = 0;
	private last: PastOutage | undefined;

	/** `now`: the clock, in ms (the connection's Timers). */
	constructor(private readonly now: () => number) {}

	/** Takes the link's new state; returns the outage it ends, if it ends one. */
	observe(state: LinkState): PastOutage | undefined {
		switch (state.type) {
			case 'reconnecting':
				this.startedAt ??= this.now();
				return undefined;
			case 'connected': {
				if (this.startedAt === undefined) {
					return undefined;
				}
				const failure = this.failure ?? this.gaveUp;
				const ended: PastOutage = {
					end: state.renewed ? 'lost' : 'resumed',
					durationMs: Math.max(0, this.now() - this.startedAt),
					...(failure !== undefined ? { failure } : {}),
				};
				this.startedAt = this.failure = this.gaveUp = undefined;
				this.drops++;
				this.last = { end: ended.end, durationMs: ended.durationMs };
				return ended;
			}
			case 'failed':
				// Not an outage any more: a refusal that needs a human, said in its own words.
				this.startedAt = this.failure = this.gaveUp = undefined;
				return undefined;
		}
	}

	/**
	 * A forwarded connection failed with `reason`: true when that happened during an outage, so
	 * it is the drop's doing (the session's streams reset, a connection that waited too long), not
	 * its target's; the first such reason is kept for the outage's end. A connection that gave up
	 * waiting (UNREACHABLE_WHILE_RECONNECTING) says nothing of why the session was lost: it is kept
	 * only for an outage that has no other reason.
	 */
	attribute(reason: string): boolean {
		if (this.startedAt === undefined) {
			return false;
		}
		if (reason === UNREACHABLE_WHILE_RECONNECTING) {
			this.gaveUp ??= reason;
		} else {
			this.failure ??= reason;
		}
		return true;
	}

	/** Whether the link is down and being reconnected now. */
	get isOut(): boolean {
		return this.startedAt !== undefined;
	}

	/** How long the current outage has lasted; undefined while the link is not reconnecting. */
	get outageMs(): number | undefined {
		return this.startedAt === undefined ? undefined : Math.max(0, this.now() - this.startedAt);
	}

	/** The drops so far; undefined before the first one ended. */
	get summary(): OutageSummary | undefined {
		return this.last ? { drops: this.drops, last: this.last } : undefined;
	}
}
