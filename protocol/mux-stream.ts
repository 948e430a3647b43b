import { STREAM_INITIAL_WINDOW_BYTES, STREAM_WINDOW_BYTES, STREAM_WINDOW_STEP_BYTES } from './constants';

/**
 * What a stream tells its owner (usually the bridge to a TCP socket). One plain object per stream
 * rather than emitters: a session may hold tens of thousands of streams, and each byte of
 * per-stream state counts.
 */
export interface StreamHandler {
	/** Bytes from the peer, in order. Report what is still held with `stream.setBuffered()`. */
	onData(chunk: Uint8Array): void;
	/** The peer sent End: nothing more will arrive; this side may still write. */
	onEnd(): void;
	/** The stream is over both ways: reset by the peer or by this side, or its session closed. */
	onReset(reason: string): void;
	/** What was queued has gone out: a paused source may resume. */
	onDrain(): void;
	/** For the side that opened the stream: the other side reached the target. */
	onOpened?(): void;
}

/** The Mux's side of a stream: what a MuxStream asks of it. */
export interface StreamOwner {
	writeData(stream: MuxStream, chunk: Uint8Array): boolean;
	endStream(stream: MuxStream): void;
	resetStream(stream: MuxStream, reason: string, tellPeer: boolean): void;
	acceptStream(stream: MuxStream): void;
	grant(stream: MuxStream, increment: number): boolean;
	bufferedChanged(delta: number): void;
}

/**
 * One bidirectional stream inside a session. Writes are limited by credit the peer grants (its
 * receive window); what arrives is limited by the credit this side grants, which grows only as
 * the owner reports its buffered bytes going down. So a reader that stops holds at most its
 * window, and never stalls the other streams of the session.
 */
export class MuxStream {
	private handler: StreamHandler | undefined;
	/** Data (and an End) that arrived before a handler was attached. */
	private inbox: Uint8Array[] | undefined;
	private inboxEnded = false;
	private isOpened = false;

	/** Bytes admitted (checked against the credit granted). */
	private received = 0;
	/** Bytes handed to the handler or the inbox; what the handler holds of them is `buffered`. */
	private delivered = 0;
	private granted = STREAM_INITIAL_WINDOW_BYTES;
	private buffered = 0;

	/** Bytes this side may still send. */
	credit = STREAM_INITIAL_WINDOW_BYTES;
	/** Data waiting for credit or for its turn. */
	pending: Uint8Array[] | undefined;
	pendingBytes = 0;
	/** End requested while data was still pending. */
	endQueued = false;
	sentEnd = false;
	gotEnd = false;
	closed = false;
	/** In the owner's round-robin queue. */
	scheduled = false;
	/** `write` returned false; onDrain is owed once there is room again. */
	sourcePaused = false;

	constructor(
		private readonly owner: StreamOwner,
		readonly id: number,
	) {}

	/** Starts delivering to `handler` (what arrived before is delivered at once). */
	attach(handler: StreamHandler): void {
		// Deliver what waited before taking new data, so bytes that arrive meanwhile (a handler may
		// cause a round trip) queue behind it: order is never broken.
		while (this.inbox) {
			const inbox = this.inbox;
			this.inbox = undefined;
			for (const chunk of inbox) {
				handler.onData(chunk);
			}
		}
		this.handler = handler;
		if (this.inboxEnded) {
			handler.onEnd();
		}
		if (this.isOpened) {
			handler.onOpened?.();
		}
	}

	/** Queues bytes for the peer. Returns false once the caller should pause its source until onDrain. */
	write(chunk: Uint8Array): boolean {
		return this.owner.writeData(this, chunk);
	}

	/** Half-close: no more data from this side; the peer may go on sending. */
	end(): void {
		this.owner.endStream(this);
	}

	/** Ends the stream both ways with a reason for the peer. */
	reset(reason: string): void {
		this.owner.resetStream(this, reason, true);
	}

	/** For the side that received the Open: the target is reached. */
	accept(): void {
		this.owner.acceptStream(this);
	}

	/**
	 * The owner says how many received bytes it still holds (a socket's writableLength). Credit
	 * flows back to the peer as this goes down.
	 */
	setBuffered(bytes: number): void {
		if (bytes !== this.buffered) {
			this.owner.bufferedChanged(bytes - this.buffered);
			this.buffered = bytes;
		}
		this.maybeGrant();
	}

	/** Re-offers credit (the session's buffer cap may have been in the way). */
	maybeGrant(): void {
		if (this.closed || this.gotEnd) {
			return;
		}
		const target = this.delivered - this.buffered + STREAM_WINDOW_BYTES;
		const increment = target - this.granted;
		if (increment < STREAM_WINDOW_STEP_BYTES) {
			return;
		}
		// Raise the limit before the Window frame leaves: its answer may come back at once.
		const previous = this.granted;
		this.granted = target;
		if (!this.owner.grant(this, increment)) {
			this.granted = previous;
		}
	}

	/**
	 * @internal A Data frame of `bytes` arrived: counted against the credit granted *before* it
	 * (grants made while it is delivered cannot cover it). False if it broke the flow-control
	 * contract; then nothing of it may be delivered.
	 */
	admit(bytes: number): boolean {
		this.received += bytes;
		return this.received <= this.granted;
	}

	/** @internal One piece of an admitted Data frame. */
	deliver(chunk: Uint8Array): void {
		this.delivered += chunk.byteLength;
		if (this.handler) {
			this.handler.onData(chunk);
		} else {
			(this.inbox ??= []).push(chunk);
			this.owner.bufferedChanged(chunk.byteLength);
			this.buffered += chunk.byteLength;
		}
	}

	/** @internal The peer's End. */
	receiveEnd(): void {
		this.gotEnd = true;
		if (this.handler) {
			this.handler.onEnd();
		} else {
			this.inboxEnded = true;
		}
	}

	/** @internal The stream is over; tells the handler once. */
	terminate(reason: string): void {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.pending = undefined;
		this.pendingBytes = 0;
		if (this.buffered !== 0) {
			this.owner.bufferedChanged(-this.buffered);
			this.buffered = 0;
		}
		this.inbox = undefined;
		this.handler?.onReset(reason);
	}

	/** @internal The other side reached the target (told now, or on attach). */
	opened(): void {
		this.isOpened = true;
		this.handler?.onOpened?.();
	}

	/** @internal */
	drained(): void {
		this.handler?.onDrain();
	}
}
