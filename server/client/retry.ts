import { RECONNECT_DELAYS_MS } from '../../protocol/constants';
import { BerthError, errorMessage } from '../../protocol/errors';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

/** The wait before attempt `attempt` (1-based), or undefined to give up before it. */
export type RetrySchedule = (attempt: number) => number | undefined;

/** The wait before reconnection attempt `attempt` (1-based): VS Code's 0, 5, 5, 10 … 30 s, forever. */
export function reconnectDelayMs(attempt: number): number {
	const index = Math.min(attempt - 1, RECONNECT_DELAYS_MS.length - 1);
	return RECONNECT_DELAYS_MS[Math.max(0, index)]!;
}

/** True when retrying cannot help: the peer refused in words, or does not speak Berth's handshake. */
export function isPermanentError(error: unknown): error is BerthError {
	return error instanceof BerthError && error.isPermanent;
}

/** Reported before each wait: which attempt is next, after how long, and why the last one failed. */
export interface RetryWait {
	readonly attempt: number;
	readonly delayMs: number;
	readonly lastError?: string;
}

/** How a retry loop ended. */
export type RetryOutcome<T> =
	| { readonly type: 'succeeded'; readonly value: T }
	/** An attempt failed in a way retrying cannot cure. */
	| { readonly type: 'refused'; readonly error: BerthError }
	/** The schedule gave up. */
	| { readonly type: 'exhausted'; readonly lastError?: string }
	/** The run was disposed. */
	| { readonly type: 'cancelled' };

export interface RetryOptions<T> {
	readonly timers: Timers;
	readonly attempt: () => Promise<T>;
	readonly schedule: RetrySchedule;
	readonly isPermanent: (error: unknown) => error is BerthError;
	readonly onWait: (wait: RetryWait) => void;
	/** Releases a value whose attempt succeeded after the run was disposed. */
	readonly discard?: (value: T) => void;
	/** Why the loop started, reported as the first wait's `lastError`. */
	readonly firstError?: string;
}

/** A retry loop in progress: disposing it ends the current wait and the loop. */
export interface RetryRun<T> extends IDisposable {
	readonly outcome: Promise<RetryOutcome<T>>;
	/** Ends the current wait: the next attempt starts at once (a user's "reconnect now"). */
	tryNow(): void;
}

/**
 * Tries `attempt` again and again, waiting what `schedule` says before each try, until one
 * succeeds, one fails permanently, the schedule gives up, or the run is disposed. The one loop
 * behind every reconnection: a Management session re-attaching, and a stream session being
 * renewed.
 */
export function retry<T>(options: RetryOptions<T>): RetryRun<T> {
	let cancelled = false;
	let wake: (() => void) | undefined;
	const sleep = (ms: number): Promise<void> =>
		new Promise((resolve) => {
			const timer = options.timers.timeout(resolve, ms);
			wake = () => (timer.dispose(), resolve());
		});
	// The first attempt after a drop (VS Code's wait of 0) goes once the code that started the loop
	// has run (a microtask): a 0 ms timer fires in the event loop's next timer phase, 1 ms or more
	// later in Node, which was a tenth of a resume on loopback. Later waits of 0 stay timers, so a
	// schedule of zeros cannot spin without letting I/O in.
	const loop = async (): Promise<RetryOutcome<T>> => {
		let lastError = options.firstError;
		for (let attempt = 1; ; attempt++) {
			const delayMs = options.schedule(attempt);
			if (delayMs === undefined) {
				return { type: 'exhausted', ...(lastError !== undefined ? { lastError } : {}) };
			}
			options.onWait({ attempt, delayMs, ...(lastError !== undefined ? { lastError } : {}) });
			if (!cancelled) {
				await (delayMs === 0 && attempt === 1 ? Promise.resolve() : sleep(delayMs));
				wake = undefined;
			}
			if (cancelled) {
				return { type: 'cancelled' };
			}
			try {
				const value = await options.attempt();
				if (cancelled) {
					options.discard?.(value);
					return { type: 'cancelled' };
				}
				return { type: 'succeeded', value };
			} catch (error) {
				if (cancelled) {
					return { type: 'cancelled' };
				}
				if (options.isPermanent(error)) {
					return { type: 'refused', error };
				}
				lastError = errorMessage(error);
			}
		}
	};
	return {
		outcome: loop(),
		tryNow: () => wake?.(),
		dispose: () => {
			cancelled = true;
			wake?.();
		},
	};
}
