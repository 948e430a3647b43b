import type { Timers } from '../protocol/timers';

/** Wrong tokens one source may present in a burst before it has to wait (typos, a stale token). */
export const AUTH_FAILURE_BURST = 10;
/** After the burst, one more attempt per this many milliseconds: at most 10 guesses a minute. */
export const AUTH_FAILURE_REFILL_MS = 6_000;
/** Sources remembered at once; past it the least recently failed is forgotten (about 100 B each). */
export const MAX_THROTTLED_SOURCES = 4_096;

export interface AuthThrottleOptions {
	readonly timers: Timers;
	readonly burst?: number;
	readonly refillMs?: number;
	readonly maxSources?: number;
}

/** The throttle as one connection or request sees it: already bound to its source address. */
export interface AuthAttempts {
	/** Milliseconds until this source may present a token again; 0 when it may now. */
	retryAfterMs(): number;
	/** Records a wrong token from this source; returns retryAfterMs() after it. */
	recordFailure(): number;
}

interface Bucket {
	/** Attempts left (fractional while it refills). */
	credit: number;
	/** `timers.now()` when `credit` was last brought up to date. */
	at: number;
}

/**
 * Slows token guessing, per source address: a token bucket of AUTH_FAILURE_BURST wrong tokens
 * that refills one every AUTH_FAILURE_REFILL_MS. A source with no credit left is refused before
 * its token is even compared, so guessing stops paying off; every other source is unaffected.
 * Only failures are recorded, in an LRU bounded by MAX_THROTTLED_SOURCES, so state stays bounded
 * however many addresses an attacker has (IPv6 sources count per /64, which one host usually
 * owns whole). Handshake `auth` refusals and HTTP token refusals share one throttle.
 */
export class AuthThrottle {
	private readonly buckets = new Map<string, Bucket>();
	private readonly burst: number;
	private readonly refillMs: number;
	private readonly maxSources: number;

	constructor(private readonly options: AuthThrottleOptions) {
		this.burst = options.burst ?? AUTH_FAILURE_BURST;
		this.refillMs = options.refillMs ?? AUTH_FAILURE_REFILL_MS;
		this.maxSources = options.maxSources ?? MAX_THROTTLED_SOURCES;
	}

	/** Sources remembered now. */
	get size(): number {
		return this.buckets.size;
	}

	/** The throttle bound to one source address (as `socket.remoteAddress` gives it). */
	forSource(address: string | undefined): AuthAttempts {
		const key = sourceKey(address ?? '');
		return {
			retryAfterMs: () => this.retryAfterMs(key),
			recordFailure: () => this.recordFailure(key),
		};
	}

	private retryAfterMs(key: string): number {
		const bucket = this.refill(key);
		return bucket === undefined || bucket.credit >= 1 ? 0 : Math.ceil((1 - bucket.credit) * this.refillMs);
	}

	private recordFailure(key: string): number {
		const bucket = this.refill(key) ?? { credit: this.burst, at: this.options.timers.now() };
		bucket.credit = Math.max(0, bucket.credit - 1);
		// Most recently failed last: the Map's order is the LRU's.
		this.buckets.delete(key);
		this.buckets.set(key, bucket);
		while (this.buckets.size > this.maxSources) {
			this.buckets.delete(this.buckets.keys().next().value as string);
		}
		return this.retryAfterMs(key);
	}

	/** The source's bucket brought up to now; a bucket that is full again is forgotten. */
	private refill(key: string): Bucket | undefined {
		const bucket = this.buckets.get(key);
		if (!bucket) {
			return undefined;
		}
		const now = this.options.timers.now();
		bucket.credit = Math.min(this.burst, bucket.credit + (now - bucket.at) / this.refillMs);
		bucket.at = now;
		if (bucket.credit >= this.burst) {
			this.buckets.delete(key);
			return undefined;
		}
		return bucket;
	}
}

/**
 * The throttle's key for an address: IPv4 (also when IPv4-mapped) as is, IPv6 by its /64, the
 * zone dropped. Anything unparsable is its own key.
 */
export function sourceKey(address: string): string {
	const bare = address.replace(/%.*$/, '').toLowerCase();
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
	if (mapped) {
		return mapped[1]!;
	}
	if (!bare.includes(':')) {
		return bare;
	}
	const [head = '', tail] = bare.split('::', 2);
	const headGroups = head === '' ? [] : head.split(':');
	const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
	const missing = 8 - headGroups.length - tailGroups.length;
	if (tail !== undefined && missing < 1) {
		return bare; // '::' stands for at least one group
	}
	const groups =
		tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
	if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) {
		return bare;
	}
	return (
		groups
			.slice(0, 4)
			.map((g) => g.replace(/^0+(?=.)/, ''))
			.join(':') + '::/64'
	);
}
