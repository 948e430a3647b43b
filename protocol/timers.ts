import { MAX_TIMER_DELAY_MS } from './constants';
import { BerthError } from './errors';
import type { IDisposable } from './lifecycle';

/**
 * The clock and timers a protocol object uses, passed in by whoever creates it: Node's in the
 * agent and client, a manual clock in unit tests. protocol/ never touches global timers itself.
 */
export interface Timers {
	/** Milliseconds on a monotonic clock. */
	now(): number;
	/** Runs `fn` once after `ms`; disposing the result cancels it. */
	timeout(fn: () => void, ms: number): IDisposable;
	/** Runs `fn` every `ms`; disposing the result stops it. */
	interval(fn: () => void, ms: number): IDisposable;
}

/**
 * Checks a duration from configuration before it becomes a timer: setTimeout fires anything over
 * MAX_TIMER_DELAY_MS (24.8 days) after 1 ms, so such a value is refused rather than obeyed.
 * @throws BerthError BERTH_ERR_USAGE when `ms` is not a whole number from 0 to MAX_TIMER_DELAY_MS.
 */
export function checkTimerDelay(name: string, ms: number): number {
	if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIMER_DELAY_MS) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${name} ${ms} ms is not a duration a timer can hold: use 0 to ${MAX_TIMER_DELAY_MS} ms (24.8 days)`,
		);
	}
	return ms;
}
