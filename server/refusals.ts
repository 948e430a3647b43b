import type { Socket } from 'node:net';
import { Disposable } from '../protocol/lifecycle';
import type { Timers } from '../protocol/timers';
import { AuthThrottle, type AuthAttempts } from './auth-throttle';
import type { LogFields, Logger } from './shared/log';
import { LogBudget } from './shared/log-budget';

/**
 * Refusal log lines (refused connections, throttled token guessers) per window: a peer causes
 * them at will, so a flood logs at most this many lines (about 180 B each) a minute, plus one
 * line saying how many were held back.
 */
export const REFUSAL_LOG_LINES = 20;
export const REFUSAL_LOG_WINDOW_MS = 60_000;

/**
 * What the agent does about peers it refuses: token guessing is throttled per source address
 * (`AuthThrottle`), and the lines they cause are logged within a budget.
 */
export class Refusals extends Disposable {
	private readonly throttle: AuthThrottle;
	private readonly budget: LogBudget;

	constructor(
		private readonly log: Logger,
		timers: Timers,
	) {
		super();
		this.throttle = new AuthThrottle({ timers });
		this.budget = this._register(
			new LogBudget({
				lines: REFUSAL_LOG_LINES,
				windowMs: REFUSAL_LOG_WINDOW_MS,
				timers,
				onSuppressed: (count) =>
					log.info('refusal lines held back', { count, windowSeconds: REFUSAL_LOG_WINDOW_MS / 1000 }),
			}),
		);
	}

	/** A line a peer can cause at will: logged within the budget. */
	logRefusal(level: 'info' | 'warn', message: string, fields: LogFields): void {
		if (this.budget.take()) {
			this.log[level](message, fields);
		}
	}

	/** The token-guessing throttle for a socket's source address; logs when the address is held off. */
	attemptsFrom(socket: Socket): AuthAttempts {
		const attempts = this.throttle.forSource(socket.remoteAddress);
		return {
			retryAfterMs: () => attempts.retryAfterMs(),
			recordFailure: () => {
				const retryAfterMs = attempts.recordFailure();
				if (retryAfterMs > 0) {
					this.logRefusal(
						'warn',
						'too many wrong tokens from one address: its tokens are refused for a while',
						{
							address: socket.remoteAddress,
							retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
						},
					);
				}
				return retryAfterMs;
			},
		};
	}
}
