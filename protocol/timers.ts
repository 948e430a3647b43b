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
