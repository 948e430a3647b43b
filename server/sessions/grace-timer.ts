import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

export interface GraceTimerOptions {
	readonly timers: Timers;
	/** How long a session whose socket dropped waits for its client. */
	readonly graceMs: number;
	/** The wait once another client of the same holder has connected (VS Code: min(5 min, grace)). */
	readonly shortGraceMs: number;
	/** The wait ran out: the session ends. */
	readonly onExpire: () => void;
}

/**
 * A session's wait for its client after a dropped socket: the long grace from the drop, cut
 * down to the short grace when another client of the same holder connects (VS Code's rule: that
 * client is most likely the same user on a new window, and this one is not coming back).
 */
export class GraceTimer implements IDisposable {
	private long: IDisposable | undefined;
	private short: IDisposable | undefined;

	constructor(private readonly options: GraceTimerOptions) {}

	/** Whether the session is waiting now. */
	get isRunning(): boolean {
		return this.long !== undefined;
	}

	/** The socket dropped: the long wait starts (again). */
	start(): void {
		this.stop();
		this.long = this.options.timers.timeout(() => this.expire(), this.options.graceMs);
	}

	/** The client came back (or the session ended). */
	stop(): void {
		this.long?.dispose();
		this.short?.dispose();
		this.long = undefined;
		this.short = undefined;
	}

	/** Shortens a running wait to the short grace; returns the new wait in ms, or undefined if nothing changed. */
	shorten(): number | undefined {
		if (!this.long || this.short) {
			return undefined;
		}
		const shortMs = Math.min(this.options.shortGraceMs, this.options.graceMs);
		this.short = this.options.timers.timeout(() => this.expire(), shortMs);
		return shortMs;
	}

	dispose(): void {
		this.stop();
	}

	private expire(): void {
		this.stop();
		this.options.onExpire();
	}
}
