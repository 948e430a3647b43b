/**
 * Bytes per second of each forward, from the totals its counters announce. The client library
 * announces a forward's counters at most once a second, and 1 s after the first byte that follows
 * a quiet spell; so a sample is taken when the totals change (at the announcement), and the rate
 * is the change over the last few seconds. Pure (the caller passes the time), so it is unit-tested.
 */

import type { TrafficRate } from './ports-model';

/** The span the rate is averaged over: long enough to smooth the once-a-second announcements. */
const RATE_WINDOW_MS = 3_000;
/**
 * How long after its last change a forward counts as idle (rate 0): an announcement interval
 * (1 s) plus slack for a late one.
 */
export const RATE_IDLE_MS = 2_000;
/** The most time the bytes of one announcement can span: the library's announcement interval. */
const ANNOUNCE_SPAN_MS = 1_000;

interface Sample {
	readonly at: number;
	readonly bytesIn: number;
	readonly bytesOut: number;
}

const IDLE: TrafficRate = { rateIn: 0, rateOut: 0 };

/** Samples of each forward's totals, by a key the caller chooses (`forwardKey`). */
export class TrafficRates {
	private readonly samples = new Map<string, Sample[]>();

	/** Notes the totals seen at `now`; only a change makes a sample. */
	observe(key: string, now: number, bytesIn: number, bytesOut: number): void {
		const list = this.samples.get(key) ?? [];
		const last = list[list.length - 1];
		if (last && last.bytesIn === bytesIn && last.bytesOut === bytesOut) {
			return;
		}
		list.push({ at: now, bytesIn, bytesOut });
		// Keep one sample older than the window: the baseline the window's first change started from.
		while (list.length > 2 && list[1]!.at < now - RATE_WINDOW_MS) {
			list.shift();
		}
		this.samples.set(key, list);
	}

	/** Bytes per second each way at `now`: 0 once the totals have not moved for RATE_IDLE_MS. */
	rate(key: string, now: number): TrafficRate {
		const list = this.samples.get(key);
		if (!list || list.length < 2) {
			return IDLE;
		}
		const first = list[0]!;
		const last = list[list.length - 1]!;
		if (now - last.at > RATE_IDLE_MS) {
			return IDLE;
		}
		// The bytes of the first change came in at most one announcement span before it was seen,
		// however long the forward was quiet before.
		const start = Math.max(first.at, list[1]!.at - ANNOUNCE_SPAN_MS);
		const seconds = Math.max(last.at - start, ANNOUNCE_SPAN_MS) / 1000;
		return {
			rateIn: Math.max(0, last.bytesIn - first.bytesIn) / seconds,
			rateOut: Math.max(0, last.bytesOut - first.bytesOut) / seconds,
		};
	}

	/** Forgets every key not in `keep` (forwards that are gone). */
	retain(keep: ReadonlySet<string>): void {
		for (const key of this.samples.keys()) {
			if (!keep.has(key)) {
				this.samples.delete(key);
			}
		}
	}
}
