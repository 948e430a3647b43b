import { ResetCode, type StreamReset } from '../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../protocol/mux-stream';

/** How a joined pair ended: both sides finished (End both ways), or one side was reset. */
export type PairEnd = { readonly kind: 'clean' } | { readonly kind: 'reset'; readonly reset: StreamReset };

/** One direction of a joined pair: what arrives on `from` is written to `to`. */
class Half implements StreamHandler {
	other!: Half;

	constructor(
		readonly from: MuxStream,
		readonly to: MuxStream,
		private readonly onFinished: (end: PairEnd) => void,
	) {}

	onData(chunk: Uint8Array): void {
		this.to.write(chunk);
		if (this.to.pendingBytes > 0) {
			// Ask for onDrain as `to` sends its queue on, even if its write did not need pausing:
			// that is when `from` may be granted more.
			this.to.sourcePaused = true;
		}
		// Credit flows back to `from`'s peer only as `to` sends it on: a slow far end holds up
		// this direction's window, not the agent's memory.
		this.from.setBuffered(this.to.pendingBytes);
	}

	onEnd(): void {
		this.to.end();
		this.maybeDone();
	}

	onReset(reset: StreamReset): void {
		if (!this.to.closed) {
			this.to.reset(reset.code, reset.reason);
		}
		this.onFinished({ kind: 'reset', reset });
	}

	/** `from`'s queue (filled by the other direction) went out: that direction's reader is owed credit. */
	onDrain(): void {
		if (this.from.pendingBytes > 0) {
			this.from.sourcePaused = true; // and again when the rest goes
		}
		this.other.from.setBuffered(this.from.pendingBytes);
	}

	onDatagram(datagram: Uint8Array): void {
		this.to.sendDatagram(datagram);
	}

	maybeDone(): void {
		if (this.from.gotEnd && this.to.gotEnd) {
			this.onFinished({ kind: 'clean' });
		}
	}
}

/**
 * Joins two streams of (usually) two sessions, both ways, with credit passed across: the agent's
 * relay between a connector's stream and a provider's. Bytes, End (half-close), Reset (with its
 * code, so the connector's client gets the right SOCKS reply) and datagrams go across; each
 * direction's window opens only as the other side sends on, so the relay holds at most the two
 * streams' queues, whatever the speeds at either end.
 */
export class StreamPairBridge {
	private finished = false;

	constructor(
		a: MuxStream,
		b: MuxStream,
		private readonly onEnd: (end: PairEnd) => void = () => undefined,
	) {
		const finish = (end: PairEnd): void => {
			if (!this.finished) {
				this.finished = true;
				this.onEnd(end);
			}
		};
		const ab = new Half(a, b, finish);
		const ba = new Half(b, a, finish);
		ab.other = ba;
		ba.other = ab;
		a.attach(ab);
		b.attach(ba);
	}

	/** Ends both streams with a reason (the relay is closing). */
	static resetBoth(a: MuxStream, b: MuxStream, reason: string): void {
		for (const stream of [a, b]) {
			if (!stream.closed) {
				stream.reset(ResetCode.SessionClosed, reason);
			}
		}
	}
}
