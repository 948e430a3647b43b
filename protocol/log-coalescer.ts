import type { IDisposable } from './lifecycle';
import type { Timers } from './timers';

/** How long identical log lines are counted before their summary is written. */
export const LOG_COALESCE_WINDOW_MS = 10_000;
/**
 * Distinct lines tracked at once. Past it a new line is written as it comes, uncounted: a flood
 * of distinct lines costs the coalescer no more memory than this.
 */
export const LOG_COALESCE_MAX_KEYS = 1_000;

export interface LogCoalescerOptions<Line> {
	readonly timers: Timers;
	/** Where lines (and summaries) go. */
	readonly write: (line: Line) => void;
	/** The summary of `line` repeated `count` more times within `windowMs`. */
	readonly summarize: (line: Line, count: number, windowMs: number) => Line;
	/** Default LOG_COALESCE_WINDOW_MS. */
	readonly windowMs?: number;
	/** Default LOG_COALESCE_MAX_KEYS. */
	readonly maxKeys?: number;
}

interface Window<Line> {
	readonly startedAt: number;
	/** The first line of the window, as written. */
	readonly line: Line;
	/** Lines held back since. */
	repeated: number;
	/** Writes the summary when the window ends (only once something was held back). */
	summary: IDisposable | undefined;
}

/**
 * Coalesces repeated log lines: the first line with a given key is written at once; the same key
 * again within the window is only counted, and when the window ends one summary says how many
 * there were ("… 1,204 more in 10 s"). A line that loops (17,684 failed connections in seconds)
 * then costs the log two lines per window instead of one per failure. Pure: the clock is
 * injected, and the caller decides what a key is (level, component, message and fields) and how
 * a line is written. Used by the CLI's logger (server/shared/log.ts); the extension may use it too.
 */
export class LogCoalescer<Line> implements IDisposable {
	private readonly windows = new Map<string, Window<Line>>();
	private readonly windowMs: number;
	private readonly maxKeys: number;

	constructor(private readonly options: LogCoalescerOptions<Line>) {
		this.windowMs = options.windowMs ?? LOG_COALESCE_WINDOW_MS;
		this.maxKeys = options.maxKeys ?? LOG_COALESCE_MAX_KEYS;
	}

	/** Writes `line`, or counts it when a line with the same key was written within the window. */
	offer(key: string, line: Line): void {
		const now = this.options.timers.now();
		const open = this.windows.get(key);
		if (open && now - open.startedAt < this.windowMs) {
			open.repeated++;
			open.summary ??= this.options.timers.timeout(
				() => this.close(key),
				open.startedAt + this.windowMs - now,
			);
			return;
		}
		if (open) {
			this.close(key);
		}
		if (this.windows.size >= this.maxKeys) {
			this.forgetQuietWindows(now);
		}
		if (this.windows.size < this.maxKeys) {
			this.windows.set(key, { startedAt: now, line, repeated: 0, summary: undefined });
		}
		this.options.write(line);
	}

	/** Writes every pending summary now (before the process exits) and starts afresh. */
	flush(): void {
		for (const key of [...this.windows.keys()]) {
			this.close(key);
		}
	}

	dispose(): void {
		this.flush();
	}

	/** Ends a window: its summary, if lines were held back, then it is forgotten. */
	private close(key: string): void {
		const window = this.windows.get(key);
		if (!window) {
			return;
		}
		this.windows.delete(key);
		window.summary?.dispose();
		if (window.repeated > 0) {
			this.options.write(this.options.summarize(window.line, window.repeated, this.windowMs));
		}
	}

	/** Drops windows that are over and held nothing back (they have no summary to write). */
	private forgetQuietWindows(now: number): void {
		for (const [key, window] of this.windows) {
			if (window.repeated === 0 && now - window.startedAt >= this.windowMs) {
				this.windows.delete(key);
			}
		}
	}
}

/** `… 1,204 more in 10 s`: the words of a summary, for text logs. */
export function formatRepeatSummary(count: number, windowMs: number): string {
	const digits = String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
	return `… ${digits} more in ${Math.round(windowMs / 1000)} s`;
}
