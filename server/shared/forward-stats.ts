import type { ForwardCounters } from '../../protocol/rpc';
import { isFailure, type BridgeObserver } from './stream-socket-bridge';

/** Counter changes are announced at most this often per forward. */
const ANNOUNCE_INTERVAL_MS = 1_000;

/**
 * One forward's counters (open and total connections, bytes each way, last error), with change
 * announcements throttled to one a second: a busy forward must not flood its RPC lane.
 */
export class ForwardStats {
	private open = 0;
	private total = 0;
	private bytesIn = 0;
	private bytesOut = 0;
	private error: string | undefined;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private disposed = false;

	/**
	 * Counts every connection of the forward: bytes from the target (towards the listener's
	 * clients) are "in", from the clients "out"; a close with an error becomes the last error.
	 */
	readonly observer: BridgeObserver = {
		toSocket: (n) => {
			this.bytesIn += n;
			this.changed();
		},
		toStream: (n) => {
			this.bytesOut += n;
			this.changed();
		},
		closed: (end) => this.closed(isFailure(end) ? end.reason : undefined),
	};

	constructor(private readonly announce: () => void) {}

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

	opened(): void {
		this.open++;
		this.total++;
		this.changed();
	}

	/** One connection ended; `failure` when it ended for a reason worth showing. */
	closed(failure?: string): void {
		this.open--;
		if (failure !== undefined) {
			this.error = failure;
		}
		this.changed();
	}

	failed(error: string): void {
		this.total++;
		this.error = error;
		this.changed();
	}

	dispose(): void {
		this.disposed = true;
		clearTimeout(this.timer);
	}

	private changed(): void {
		if (this.timer === undefined && !this.disposed) {
			this.timer = setTimeout(() => {
				this.timer = undefined;
				if (!this.disposed) {
					this.announce();
				}
			}, ANNOUNCE_INTERVAL_MS);
		}
	}
}
