import {
	STREAM_FIRST_GRANT_AFTER_BYTES,
	STREAM_INITIAL_WINDOW_BYTES,
	STREAM_MIN_WINDOW_BYTES,
	STREAM_WINDOW_BYTES,
	STREAM_WINDOW_STEP_BYTES,
} from './constants';
import { ResetCode, type StreamReset } from './mux-frames';

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
	onReset(reset: StreamReset): void;
	/** What was queued has gone out: a paused source may resume. */
	onDrain(): void;
	/** For the side that opened the stream: the other side reached the target. */
	onOpened?(): void;
	/** One whole datagram of a `udp` stream (mux-frames.ts: Datagram). */
	onDatagram?(datagram: Uint8Array): void;
}

/** The Mux's side of a stream: what a MuxStream asks of it. */
export interface StreamOwner {
	writeData(stream: MuxStream, chunk: Uint8Array): boolean;
	sendDatagram(stream: MuxStream, datagram: Uint8Array): boolean;
	endStream(stream: MuxStream): void;
	resetStream(stream: MuxStream, reset: StreamReset, tellPeer: boolean): void;
	acceptStream(stream: MuxStream): void;
	/** Bytes of the session's receive budget still free (negative when over it). */
	readonly receiveRoom: number;
	/** Sends a Window frame. */
	grant(stream: MuxStream, increment: number): void;
	/** The stream wanted more credit than the budget allowed: offer again when room frees up. */
	starve(stream: MuxStream): void;
	/** The stream's claim on the receive budget (in flight to it, plus held) changed by `delta`. */
	committedChanged(delta: number): void;
}

/**
 * One bidirectional stream inside a session. Writes are limited by credit the peer grants (its
 * receive window); what arrives is limited by the credit this side grants, which grows only as
 * the owner reports its buffered bytes going down. So a reader that stops holds at most its
 * window, and never stalls the other streams of the session.
 *
 * Grants also answer to the session's receive budget (mux.ts): a stream may claim its full window
 * only while the session has room, and is always allowed its minimum window, so a thousand streams
 * whose readers stopped hold a bounded amount of memory and the others still move.
 */
export class MuxStream {
	private handler: StreamHandler | undefined;
	/** Data (and an End) that arrived before a handler was attached. */
	private inbox: Uint8Array[] | undefined;
	private inboxEnded = false;
	private isOpened = false;
	/** The Reset that ended the stream while no handler was attached, told to the next one. */
	private unreportedReset: StreamReset | undefined;

	/** Bytes admitted (checked against the credit granted). */
	private received = 0;
	/** Bytes handed to the handler or the inbox; what the handler holds of them is `buffered`. */
	private delivered = 0;
	private granted = STREAM_INITIAL_WINDOW_BYTES;
	private buffered = 0;
	/** This stream's claim on the session's receive budget, as last reported to the owner. */
	private committed = STREAM_INITIAL_WINDOW_BYTES;

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
	/** For the side that received the Open: `accept()` sends OpenOk (unless the opener wants none). */
	sendsOpenOk = true;

	constructor(
		private readonly owner: StreamOwner,
		readonly id: number,
	) {
		owner.committedChanged(STREAM_INITIAL_WINDOW_BYTES);
	}

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
		// (unless onOpened handed the stream on: the reset is then the next handler's)
		if (this.unreportedReset && this.handler === handler) {
			const reset = this.unreportedReset;
			this.unreportedReset = undefined;
			handler.onReset(reset);
		}
	}

	/**
	 * Stops delivering until the next `attach`: Data, End and a Reset that arrive meanwhile wait
	 * for it. For a handler that only waits for OpenOk (a proxy answering its client first): the
	 * frames that follow OpenOk in the same read must reach the bridge attached after it.
	 */
	detach(): void {
		this.handler = undefined;
	}

	/** Queues bytes for the peer. Returns false once the caller should pause its source until onDrain. */
	write(chunk: Uint8Array): boolean {
		return this.owner.writeData(this, chunk);
	}

	/**
	 * Sends one datagram (a `udp` stream), whole and outside the credit windows. False when it was
	 * dropped: the session is congested or closed, as a full network drops UDP.
	 */
	sendDatagram(datagram: Uint8Array): boolean {
		return this.owner.sendDatagram(this, datagram);
	}

	/** Half-close: no more data from this side; the peer may go on sending. */
	end(): void {
		this.owner.endStream(this);
	}

	/** Ends the stream both ways, telling the peer why (a code to act on, a reason in words). */
	reset(code: ResetCode, reason: string): void {
		this.owner.resetStream(this, { code, reason }, true);
	}

	/** For the side that received the Open: the target is reached (OpenOk, if the opener wants one). */
	accept(): void {
		this.owner.acceptStream(this);
	}

	/**
	 * The owner says how many received bytes it still holds (a socket's writableLength). Credit
	 * flows back to the peer as this goes down.
	 */
	setBuffered(bytes: number): void {
		if (bytes !== this.buffered) {
			this.buffered = bytes;
			this.syncCommitted();
		}
		this.maybeGrant();
	}

	/**
	 * Offers the peer more credit: up to a full window past what the owner has taken, as far as the
	 * session's receive budget allows, and never less than the minimum window.
	 */
	maybeGrant(): void {
		if (this.closed || this.gotEnd) {
			return;
		}
		if (this.granted === STREAM_INITIAL_WINDOW_BYTES && this.received < STREAM_FIRST_GRANT_AFTER_BYTES) {
			return; // no grant yet, and the peer has half its initial window left
		}
		const consumed = this.delivered - this.buffered;
		const full = consumed + STREAM_WINDOW_BYTES - this.granted;
		if (full < STREAM_WINDOW_STEP_BYTES) {
			return; // the common case: not enough consumed yet to be worth a Window frame
		}
		const guaranteed = consumed + STREAM_MIN_WINDOW_BYTES - this.granted;
		const increment = Math.min(full, Math.max(this.owner.receiveRoom, guaranteed));
		if (increment < full) {
			this.owner.starve(this);
			if (increment < STREAM_MIN_WINDOW_BYTES / 2) {
				return;
			}
		}
		// Raise the limit before the Window frame leaves: its answer may come back at once.
		this.granted += increment;
		this.syncCommitted();
		this.owner.grant(this, increment);
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
			this.buffered += chunk.byteLength;
		}
		this.syncCommitted();
	}

	/** @internal One datagram from the peer (dropped when no handler takes datagrams yet). */
	deliverDatagram(datagram: Uint8Array): void {
		this.handler?.onDatagram?.(datagram);
	}

	/** @internal The peer's End. */
	receiveEnd(): void {
		this.gotEnd = true;
		this.syncCommitted();
		if (this.handler) {
			this.handler.onEnd();
		} else {
			this.inboxEnded = true;
		}
	}

	/** @internal The stream is over; tells the handler once. */
	terminate(reset: StreamReset): void {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.pending = undefined;
		this.pendingBytes = 0;
		this.buffered = 0;
		this.inbox = undefined;
		this.owner.committedChanged(-this.committed);
		this.committed = 0;
		if (this.handler) {
			this.handler.onReset(reset);
		} else {
			this.unreportedReset = reset;
		}
	}

	/** @internal The stream finished cleanly (End both ways): it claims nothing any more. */
	finish(): void {
		this.closed = true;
		this.owner.committedChanged(-this.committed);
		this.committed = 0;
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

	/** Reports a change in what this stream claims of the receive budget: in flight to it, plus held. */
	private syncCommitted(): void {
		if (this.closed) {
			return;
		}
		// After the peer's End nothing more can arrive: only what is held still counts.
		const committed = (this.gotEnd ? this.received : this.granted) - this.delivered + this.buffered;
		if (committed !== this.committed) {
			this.owner.committedChanged(committed - this.committed);
			this.committed = committed;
		}
	}
}
