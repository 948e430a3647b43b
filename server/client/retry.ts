import { BerthError, errorMessage } from '../../protocol/errors';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import { reconnectDelayMs } from './agent-connection';
import type { LinkState } from './agent-link';

export interface RetryOptions<T> {
	readonly timers: Timers;
	readonly attempt: () => Promise<T>;
	/** Before each wait: which attempt is next, after how long, and why the last one failed. */
	readonly onWait: (attempt: number, delayMs: number, lastError: string | undefined) => void;
	/** Holds the current wait, so that disposing the owner ends it. */
	readonly setWait: (wait: IDisposable | undefined) => void;
	readonly isCancelled: () => boolean;
	/** The first error to report as `lastError`. */
	readonly firstError?: string;
}

export type RetryResult<T> =
	{ readonly value: T } | { readonly error: BerthError } | { readonly cancelled: true };

/**
 * Tries again and again on VS Code's reconnection schedule (0, 5, 5, 10 … 30 s) until an attempt
 * succeeds, one fails permanently (the agent refused in words, or cannot prove itself), or the
 * owner is disposed.
 */
export async function retryWithBackoff<T>(options: RetryOptions<T>): Promise<RetryResult<T>> {
	let lastError = options.firstError;
	for (let attempt = 1; ; attempt++) {
		const delayMs = reconnectDelayMs(attempt);
		options.onWait(attempt, delayMs, lastError);
		await new Promise<void>((resolve) => {
			const timer = options.timers.timeout(resolve, delayMs);
			options.setWait({ dispose: () => (timer.dispose(), resolve()) });
		});
		options.setWait(undefined);
		if (options.isCancelled()) {
			return { cancelled: true };
		}
		try {
			return { value: await options.attempt() };
		} catch (error) {
			if (error instanceof BerthError && error.isPermanent) {
				return { error };
			}
			lastError = errorMessage(error);
		}
	}
}

/**
 * The reconnection loop of a link (AgentLink, StreamForwarder): retries `attempt` on the
 * schedule, reporting `reconnecting` states and a final `failed` one. Resolves with the new
 * session, or undefined when it failed for good or the owner was disposed (`setState` was told).
 */
export async function renewLink<T>(options: {
	readonly timers: Timers;
	readonly reason: string;
	readonly attempt: () => Promise<T>;
	readonly setState: (state: LinkState) => void;
	readonly setWait: (wait: IDisposable | undefined) => void;
	readonly isCancelled: () => boolean;
}): Promise<T | undefined> {
	const result = await retryWithBackoff({
		timers: options.timers,
		firstError: options.reason,
		attempt: options.attempt,
		onWait: (attempt, delayMs, lastError) =>
			options.setState({ type: 'reconnecting', attempt, delayMs, ...(lastError ? { lastError } : {}) }),
		setWait: options.setWait,
		isCancelled: options.isCancelled,
	});
	if ('error' in result) {
		options.setState({ type: 'failed', error: result.error });
	}
	return 'value' in result ? result.value : undefined;
}
