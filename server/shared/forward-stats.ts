import type { IDisposable } from '../../protocol/lifecycle';
import type { ForwardCounters } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import { bridgeFailure } from './bridge-failure';
import type { BridgeObserver } from './stream-socket-bridge';

/** Counter changes are announced at most this often per forward. */
const ANNOUNCE_INTERVAL_MS = 1_000;

/**
 * One forward's counters (open and total connections, bytes each way, last error), with change
 * announcements throttled to one a second: a busy forward must not flood its RPC lane.
 */
export class ForwardStats implements IDisposable {
	private open = 0;
	private total = 0;
	private bytesIn = 0;
	private bytesOut = 0;
	private error: string | undefined;
	private timer: IDisposable | undefined;
	private disposed = false;

	/**
	 * Counts every connection of the forward: bytes from the target (towards the listener's
	 * clients) are "in", from the clients "out"; a connection that failed sets the last error.
	 */
	readonly observer: BridgeObserver = {
		toSocket: (n) => this.carriedIn(n),
		toStream: (n) => this.carriedOut(n),
		closed: (end) => this.closed(bridgeFailure(end)),
	};

	constructor(
		private readonly announce: () => void,
		private readonly timers: Timers,
	) {}

	get counters(): ForwardCounters {
		return {
			open: this.open,
			total: this.total,
			bytesIn: this.bytesIn,
			bytesOut: this.bytesOut,
			...(this.error !== undefined ? { lastError: this.error } : {}),
		};
	}

	get lastError(): string | undefined {
		return this.error;
	}

	/** Bytes from the target towards the listener's clients. */
	carriedIn(bytes: number): void {
		this.bytesIn += bytes;
		this.changed();
	}

	/** Bytes from the listener's clients towards the target. */
	carriedOut(bytes: number): void {
		this.bytesOut += bytes;
		this.changed();
	}

	opened(): void {
		this.open++;
		this.total++;
		this.changed();
	}

	/** One connection is over; `failure` says why it failed, when it did. */
	closed(failure?: string): void {
		this.open--;
		if (failure !== undefined) {
			this.error = failure;
		}
		this.changed();
	}

	/** A connection that could not even be opened: counted, never open, and its error kept. */
	failed(error: string): void {
		this.total++;
		this.error = error;
		this.changed();
	}

	dispose(): void {
		this.disposed = true;
		this.timer?.dispose();
	}

	private changed(): void {
		if (this.timer === undefined && !this.disposed) {
			this.timer = this.timers.timeout(() => {
				this.timer = undefined;
				if (!this.disposed) {
					this.announce();
				}
			}, ANNOUNCE_INTERVAL_MS);
		}
	}
}
