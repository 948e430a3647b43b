import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

export interface LogBudgetOptions {
	/** Lines allowed per window. */
	readonly lines: number;
	/** Length of a window, from its first line. */
	readonly windowMs: number;
	readonly timers: Timers;
	/** Called once at the end of a window in which lines were held back, with how many. */
	readonly onSuppressed: (count: number) => void;
}

/**
 * Rate-limits a kind of log line that a peer can cause at will (refused connections, token
 * guesses): at most `lines` per window, and one summary line for what was held back, so a flood
 * costs the log a bounded number of bytes per minute and is still visible in it.
 */
export class LogBudget implements IDisposable {
	private windowStart = -Infinity;
	private used = 0;
	private suppressed = 0;
	private report: IDisposable | undefined;

	constructor(private readonly options: LogBudgetOptions) {}

	/** Whether one more line may be logged now; if not, it is counted for the summary. */
	take(): boolean {
		const now = this.options.timers.now();
		if (now - this.windowStart >= this.options.windowMs && this.report === undefined) {
			this.windowStart = now;
			this.used = 0;
		}
		if (this.used < this.options.lines) {
			this.used++;
			return true;
		}
		this.suppressed++;
		this.report ??= this.options.timers.timeout(
			() => this.flush(),
			Math.max(0, this.windowStart + this.options.windowMs - now),
		);
		return false;
	}

	dispose(): void {
		this.report?.dispose();
		this.report = undefined;
	}

	private flush(): void {
		const count = this.suppressed;
		this.report = undefined;
		this.suppressed = 0;
		// The summary opens the next window: a flood that goes on logs `lines` lines, then its summary.
		this.windowStart = this.options.timers.now();
		this.used = 0;
		this.options.onSuppressed(count);
	}
}
