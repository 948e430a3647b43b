import {
	MUX_MAX_DATA_FRAME_BYTES,
	MUX_MAX_STREAMS,
	MUX_QUANTUM_BYTES,
	MUX_RECEIVE_BUDGET_BYTES,
	MUX_SEND_QUEUE_CAP_BYTES,
	MUX_UNACKED_HIGH_WATER_BYTES,
	MUX_WRITE_HIGH_WATER_BYTES,
	STREAM_WINDOW_STEP_BYTES,
} from './constants';
import { BerthError } from './errors';
import { Disposable, type Event } from './lifecycle';
import {
	encodeFrame,
	encodeFrameHeader,
	encodeOpen,
	encodeReset,
	encodeWindow,
	FRAME_HEADER_BYTES,
	FrameKind,
	MAX_DATAGRAM_BYTES,
	parseOpenTarget,
	parseReset,
	ResetCode,
	type OpenTarget,
	type StreamReset,
} from './mux-frames';
import { MuxStream, type StreamOwner } from './mux-stream';
import { concatBytes } from './bytes';
import { readU32, writeU32 } from './wire';

/** The highest stream id (a u32 on the wire). */
const MAX_STREAM_ID = 0xffff_ffff;
/** Credit a stream may hold: the u32 of a Window frame, summed, must not wrap around. */
const MAX_CREDIT_BYTES = 0xffff_ffff;

/** A control frame's body (everything after the frame header) as one buffer: these are small. */
function frameBody(segments: readonly Uint8Array[]): Uint8Array {
	if (segments.length === 1) {
		return segments[0]!.subarray(FRAME_HEADER_BYTES);
	}
	return concatBytes(segments).subarray(FRAME_HEADER_BYTES);
}

/** What the Mux needs of the layer below: a Session, in practice. */
export interface MessageChannel {
	/** One message: `prefix` (small, copied at once) then `payload` (kept uncopied until sent). */
	send(payload: Uint8Array | readonly Uint8Array[], prefix?: Uint8Array): boolean;
	/** Bytes waiting in the socket's write buffer. */
	readonly bufferedBytes: number;
	/** Bytes sent and not yet acknowledged by the peer (kept for replay). */
	readonly unackedBytes: number;
	/** Whether a socket is attached (and the channel not closed): detached, nothing leaves. */
	readonly isAttached: boolean;
	/** One message's payload, as segments (views, uncopied). */
	readonly onDidReceiveMessage: Event<readonly Uint8Array[]>;
	/** The socket's write buffer drained. */
	readonly onDidDrain: Event<void>;
	/** The peer acknowledged messages: `unackedBytes` went down. */
	readonly onDidAcknowledge: Event<void>;
}

export interface MuxOptions {
	readonly channel: MessageChannel;
	/** The client opens odd stream ids, the agent even ones. */
	readonly role: 'client' | 'agent';
	/** The peer opened a stream: reach `target`, then `stream.accept()` and attach, or `stream.reset(code, reason)`. */
	readonly onOpen: (stream: MuxStream, target: OpenTarget) => void;
	/** One RPC message arrived. */
	readonly onRpc: (bytes: Uint8Array) => void;
	/** The peer broke the framing: the session should be closed. */
	readonly onProtocolError: (message: string) => void;
	readonly maxStreams?: number;
	/** The session's receive budget (see MUX_RECEIVE_BUDGET_BYTES). */
	readonly receiveBudgetBytes?: number;
	/** Queued socket bytes past which streams wait their turn. */
	readonly highWaterBytes?: number;
	/** Unacknowledged bytes past which streams wait for acknowledgements. */
	readonly unackedHighWaterBytes?: number;
	/** Bytes queued across streams past which each stream queues at most one chunk. */
	readonly sendQueueCapBytes?: number;
}

/**
 * Many streams and one RPC lane over one session.
 *
 * Sending: Data frames go straight to the socket while the channel keeps up. It is *congested*
 * while more than a high-water mark waits in the socket, while more than MUX_UNACKED_HIGH_WATER
 * bytes await the peer's acknowledgement, or while no socket is attached; then streams queue and
 * are served round robin, a quantum each, as it clears, so a bulk transfer cannot starve an
 * interactive stream and the session's unacknowledged bytes stay under the bound that would fail
 * it, however much credit its streams hold. A stream out of credit pauses its source, and so does
 * every stream that has queued anything once the queues hold MUX_SEND_QUEUE_CAP in all. RPC,
 * Open, End, Reset and Window frames never wait behind data.
 *
 * Receiving: credit windows (mux-stream.ts) bound what each stream may have in flight or held,
 * and the session's receive budget bounds their sum, down to a minimum window per stream.
 */
export class Mux extends Disposable implements StreamOwner {
	private readonly streams = new Map<number, MuxStream>();
	private readonly ready: MuxStream[] = [];
	/** Streams that wanted more credit than the receive budget allowed. */
	private readonly starved = new Set<MuxStream>();
	private nextId: number;
	private congested = false;
	private flushing = false;
	/** Claims of all streams on the receive budget: in flight to them, plus held. */
	private committedTotal = 0;
	/** Bytes in all streams' send queues. */
	private queuedTotal = 0;
	private readonly maxStreams: number;
	private readonly receiveBudget: number;
	private readonly highWater: number;
	private readonly unackedHighWater: number;
	private readonly sendQueueCap: number;
	/** A Data frame header, rewritten for each frame (the channel copies it at once). */
	private readonly dataHeader = encodeFrameHeader(FrameKind.Data, 0);
	private readonly datagramHeader = encodeFrameHeader(FrameKind.Datagram, 0);
	/** For headers that straddle two segments. */
	private readonly headerScratch = new Uint8Array(FRAME_HEADER_BYTES);

	constructor(private readonly options: MuxOptions) {
		super();
		this.nextId = options.role === 'client' ? 1 : 2;
		this.maxStreams = options.maxStreams ?? MUX_MAX_STREAMS;
		this.receiveBudget = options.receiveBudgetBytes ?? MUX_RECEIVE_BUDGET_BYTES;
		this.highWater = options.highWaterBytes ?? MUX_WRITE_HIGH_WATER_BYTES;
		this.unackedHighWater = options.unackedHighWaterBytes ?? MUX_UNACKED_HIGH_WATER_BYTES;
		this.sendQueueCap = options.sendQueueCapBytes ?? MUX_SEND_QUEUE_CAP_BYTES;
		this._register(options.channel.onDidReceiveMessage((payload) => this.receive(payload)));
		this._register(options.channel.onDidDrain(() => this.onDrain()));
		this._register(options.channel.onDidAcknowledge(() => this.onDrain()));
		this._register({
			dispose: () => this.closeAll({ code: ResetCode.SessionClosed, reason: 'the session closed' }),
		});
	}

	/** Streams open now. */
	get streamCount(): number {
		return this.streams.size;
	}

	/** What the session's streams claim of its receive budget: in flight to them, plus held. */
	get committedBytes(): number {
		return this.committedTotal;
	}

	/** Bytes waiting in the session's stream queues. */
	get queuedBytes(): number {
		return this.queuedTotal;
	}

	/**
	 * Opens a stream to `target`. Data may be written at once (within the initial credit): it is
	 * held by the other side until the target is reached, saving a round trip per connection.
	 * With `openOk: false` in the target no OpenOk comes back (onOpened is never called).
	 */
	open(target: OpenTarget): MuxStream {
		if (this.isDisposed) {
			throw new BerthError('BERTH_ERR_CLOSED', 'the stream session is closed');
		}
		if (this.streams.size >= this.maxStreams) {
			throw new BerthError('BERTH_ERR_LIMIT', `too many streams open in this session (${this.maxStreams})`);
		}
		if (this.nextId > MAX_STREAM_ID) {
			// A session that lived long enough to use every id: the client starts a new one.
			throw new BerthError('BERTH_ERR_LIMIT', 'this session has used every stream id: start a new session');
		}
		const id = this.nextId;
		this.nextId += 2;
		const stream = new MuxStream(this, id);
		this.streams.set(id, stream);
		this.options.channel.send(encodeOpen(id, target));
		return stream;
	}

	/** Ends the Mux: every stream is reset with `reason` (what its local end is told), nothing more is sent. */
	end(reason: string): void {
		if (!this.isDisposed) {
			this.closeAll({ code: ResetCode.SessionClosed, reason });
			this.dispose();
		}
	}

	/** Sends one RPC message; it never waits behind stream data. */
	sendRpc(bytes: Uint8Array): void {
		this.send(encodeFrame(FrameKind.Rpc, 0, bytes));
	}

	// --- StreamOwner ------------------------------------------------------------------------

	writeData(stream: MuxStream, chunk: Uint8Array): boolean {
		if (stream.closed || stream.sentEnd || stream.endQueued || this.isDisposed) {
			return false;
		}
		if (
			stream.pendingBytes === 0 &&
			!this.congested &&
			chunk.byteLength <= stream.credit &&
			this.options.channel.isAttached
		) {
			this.sendData(stream, chunk);
			return true;
		}
		(stream.pending ??= []).push(chunk);
		stream.pendingBytes += chunk.byteLength;
		this.queuedTotal += chunk.byteLength;
		this.schedule(stream);
		if (!this.congested && this.options.channel.isAttached) {
			this.flush();
		} else {
			this.congested = true; // detached: streams wait until onDidDrain says a socket is back
		}
		// While the channel is congested a stream keeps queueing up to its credit, so the pipe is
		// full again the moment it clears; only a stream out of credit stops its source, or any
		// stream with something queued once the session's queues are full.
		if (stream.pendingBytes > 0 && !this.mayQueueMore(stream)) {
			stream.sourcePaused = true;
			return false;
		}
		return true;
	}

	sendDatagram(stream: MuxStream, datagram: Uint8Array): boolean {
		if (stream.closed || this.congested || this.isChannelBusy() || datagram.byteLength > MAX_DATAGRAM_BYTES) {
			return false;
		}
		writeU32(this.datagramHeader, 1, stream.id);
		this.options.channel.send(datagram, this.datagramHeader);
		return true;
	}

	/** Whether a stream's source may go on while it has data queued. */
	private mayQueueMore(stream: MuxStream): boolean {
		return stream.pendingBytes < stream.credit && this.queuedTotal <= this.sendQueueCap;
	}

	endStream(stream: MuxStream): void {
		if (stream.closed || stream.sentEnd || stream.endQueued) {
			return;
		}
		if (stream.pendingBytes > 0) {
			stream.endQueued = true;
			return;
		}
		this.sendEnd(stream);
	}

	resetStream(stream: MuxStream, reset: StreamReset, tellPeer: boolean): void {
		if (stream.closed) {
			return;
		}
		if (tellPeer) {
			this.send(encodeReset(stream.id, reset));
		}
		this.forget(stream);
		stream.terminate(reset);
	}

	acceptStream(stream: MuxStream): void {
		if (!stream.closed && stream.sendsOpenOk) {
			this.send(encodeFrame(FrameKind.OpenOk, stream.id));
		}
	}

	get receiveRoom(): number {
		return this.receiveBudget - this.committedTotal;
	}

	grant(stream: MuxStream, increment: number): void {
		this.send(encodeWindow(stream.id, increment));
	}

	starve(stream: MuxStream): void {
		this.starved.add(stream);
	}

	committedChanged(delta: number): void {
		this.committedTotal += delta;
		if (delta < 0 && this.starved.size > 0 && this.receiveRoom >= STREAM_WINDOW_STEP_BYTES) {
			this.offerStarved();
		}
	}

	/** Room freed up in the receive budget: streams held to their minimum window may grow again. */
	private offerStarved(): void {
		for (const stream of this.starved) {
			if (this.receiveRoom < STREAM_WINDOW_STEP_BYTES) {
				return;
			}
			this.starved.delete(stream);
			stream.maybeGrant(); // adds itself back if the budget still holds it back
		}
	}

	/** Sends a control or RPC frame; nothing is ever written once the Mux is disposed. */
	private send(frame: Uint8Array): void {
		if (!this.isDisposed) {
			this.options.channel.send(frame);
		}
	}

	// --- sending ----------------------------------------------------------------------------

	private sendData(stream: MuxStream, chunk: Uint8Array): void {
		const channel = this.options.channel;
		for (let offset = 0; offset < chunk.byteLength; offset += MUX_MAX_DATA_FRAME_BYTES) {
			const piece =
				offset === 0 && chunk.byteLength <= MUX_MAX_DATA_FRAME_BYTES
					? chunk
					: chunk.subarray(offset, offset + MUX_MAX_DATA_FRAME_BYTES);
			stream.credit -= piece.byteLength;
			writeU32(this.dataHeader, 1, stream.id);
			channel.send(piece, this.dataHeader);
		}
		this.congested = this.isChannelBusy();
	}

	/** The socket is full, too much awaits acknowledgement, or there is no socket. */
	private isChannelBusy(): boolean {
		const channel = this.options.channel;
		return (
			this.isDisposed ||
			!channel.isAttached ||
			channel.bufferedBytes > this.highWater ||
			channel.unackedBytes > this.unackedHighWater
		);
	}

	private sendEnd(stream: MuxStream): void {
		stream.sentEnd = true;
		stream.endQueued = false;
		this.send(encodeFrame(FrameKind.End, stream.id));
		this.closeIfDone(stream);
	}

	private schedule(stream: MuxStream): void {
		if (!stream.scheduled && stream.credit > 0 && stream.pendingBytes > 0) {
			stream.scheduled = true;
			this.ready.push(stream);
		}
	}

	/**
	 * Serves waiting streams round robin, a quantum each, until the channel is congested again.
	 * Not re-entered: a send can deliver synchronously (in memory) and bring back a Window frame,
	 * whose stream this loop then serves in its turn.
	 */
	private flush(): void {
		if (this.flushing) {
			return;
		}
		this.flushing = true;
		try {
			this.serveReady();
		} finally {
			this.flushing = false;
		}
	}

	private serveReady(): void {
		while (!this.congested && this.ready.length > 0) {
			const stream = this.ready.shift()!;
			stream.scheduled = false;
			if (stream.closed || !stream.pending) {
				continue;
			}
			let budget = Math.min(MUX_QUANTUM_BYTES, stream.credit);
			const pending = stream.pending;
			// `congested` also turns true when a send made the channel fail and close.
			while (budget > 0 && pending.length > 0 && !this.congested) {
				const head = pending[0]!;
				const piece = head.byteLength <= budget ? head : head.subarray(0, budget);
				if (piece === head) {
					pending.shift();
				} else {
					pending[0] = head.subarray(budget);
				}
				stream.pendingBytes -= piece.byteLength;
				this.queuedTotal -= piece.byteLength;
				budget -= piece.byteLength;
				this.sendData(stream, piece);
			}
			if (stream.closed) {
				continue; // a send that failed the session closed the stream with it
			}
			if (stream.pendingBytes > 0) {
				this.schedule(stream);
			} else {
				stream.pending = undefined;
				if (stream.endQueued) {
					this.sendEnd(stream);
				}
			}
			this.resumeSource(stream);
		}
	}

	/**
	 * Restarts a stream's paused source once it may queue again: its queue is empty, or it has
	 * credit to spare while the session's queues are under their cap. Over the cap every stream
	 * still gets its turn (one read at a time), so none starves while the others move.
	 */
	private resumeSource(stream: MuxStream): void {
		if (stream.sourcePaused && (stream.pendingBytes === 0 || this.mayQueueMore(stream))) {
			stream.sourcePaused = false;
			stream.drained();
		}
	}

	/** The socket drained or the peer acknowledged: streams may go on once the channel is clear. */
	private onDrain(): void {
		if (this.congested && !this.isChannelBusy()) {
			this.congested = false;
			this.flush();
		}
	}

	// --- receiving --------------------------------------------------------------------------

	private receive(segments: readonly Uint8Array[]): void {
		let first = segments[0];
		if (first === undefined || first.byteLength < FRAME_HEADER_BYTES) {
			first = this.gatherHeader(segments);
			if (!first) {
				this.options.onProtocolError('a frame is shorter than its header');
				return;
			}
		}
		const kind = first[0]!;
		const id = readU32(first, 1);
		if (kind === FrameKind.Data) {
			const stream = this.streams.get(id);
			// Data for a stream that was just reset is in flight: dropped.
			if (stream) {
				this.receiveData(stream, segments);
			}
			return;
		}
		const body = frameBody(segments);
		switch (kind) {
			case FrameKind.Window: {
				const stream = this.streams.get(id);
				if (stream && body.byteLength >= 4) {
					stream.credit += readU32(body, 0);
					if (stream.credit > MAX_CREDIT_BYTES) {
						this.resetStream(
							stream,
							{ code: ResetCode.ProtocolError, reason: 'flow control violated: a window beyond 4 GiB' },
							true,
						);
						return;
					}
					this.schedule(stream);
					if (!this.congested) {
						this.flush();
					}
					this.resumeSource(stream);
				}
				return;
			}
			case FrameKind.Rpc:
				this.options.onRpc(body);
				return;
			case FrameKind.Open:
				this.receiveOpen(id, body);
				return;
			case FrameKind.OpenOk:
				this.streams.get(id)?.opened();
				return;
			case FrameKind.End: {
				const stream = this.streams.get(id);
				if (stream && !stream.gotEnd) {
					stream.receiveEnd();
					this.closeIfDone(stream);
				}
				return;
			}
			case FrameKind.Datagram:
				if (body.byteLength <= MAX_DATAGRAM_BYTES) {
					this.streams.get(id)?.deliverDatagram(body);
				}
				return;
			case FrameKind.Reset: {
				const stream = this.streams.get(id);
				if (stream) {
					this.resetStream(stream, parseReset(body), false);
				}
				return;
			}
			default:
				// Unknown kinds come from a newer peer: ignored, as unknown message types are.
				return;
		}
	}

	/** Delivers a Data frame's body, segment by segment, uncopied, once the whole frame is admitted. */
	private receiveData(stream: MuxStream, segments: readonly Uint8Array[]): void {
		let bytes = -FRAME_HEADER_BYTES;
		for (const segment of segments) {
			bytes += segment.byteLength;
		}
		if (!stream.admit(bytes)) {
			this.resetStream(
				stream,
				{ code: ResetCode.ProtocolError, reason: 'flow control violated: more data than the granted window' },
				true,
			);
			return;
		}
		let skip = FRAME_HEADER_BYTES;
		for (const segment of segments) {
			const piece = skip === 0 ? segment : segment.subarray(skip);
			skip = Math.max(0, skip - segment.byteLength);
			if (piece.byteLength > 0) {
				stream.deliver(piece);
			}
		}
	}

	/** The frame header when it straddles segments; undefined if the frame is shorter than it. */
	private gatherHeader(segments: readonly Uint8Array[]): Uint8Array | undefined {
		let filled = 0;
		for (const segment of segments) {
			const n = Math.min(segment.byteLength, FRAME_HEADER_BYTES - filled);
			this.headerScratch.set(segment.subarray(0, n), filled);
			filled += n;
			if (filled === FRAME_HEADER_BYTES) {
				return this.headerScratch;
			}
		}
		return undefined;
	}

	private receiveOpen(id: number, body: Uint8Array): void {
		const peerParity = this.options.role === 'client' ? 0 : 1;
		if (id % 2 !== peerParity || this.streams.has(id)) {
			this.options.onProtocolError(`the peer opened stream ${id}, which it may not`);
			return;
		}
		const target = parseOpenTarget(body);
		if (!target) {
			this.send(encodeReset(id, { code: ResetCode.ProtocolError, reason: 'malformed open request' }));
			return;
		}
		if (this.streams.size >= this.maxStreams) {
			const reason = `too many streams open in this session (${this.maxStreams})`;
			this.send(encodeReset(id, { code: ResetCode.Rejected, reason }));
			return;
		}
		const stream = new MuxStream(this, id);
		stream.sendsOpenOk = target.kind === 'udp' || target.openOk !== false;
		this.streams.set(id, stream);
		this.options.onOpen(stream, target);
	}

	private closeIfDone(stream: MuxStream): void {
		if (stream.sentEnd && stream.gotEnd && stream.pendingBytes === 0) {
			this.forget(stream);
			stream.finish();
		}
	}

	private forget(stream: MuxStream): void {
		this.streams.delete(stream.id);
		this.starved.delete(stream);
		this.queuedTotal -= stream.pendingBytes;
	}

	private closeAll(reset: StreamReset): void {
		const streams = [...this.streams.values()];
		this.streams.clear();
		this.ready.length = 0;
		this.starved.clear();
		this.queuedTotal = 0;
		for (const stream of streams) {
			stream.terminate(reset);
		}
	}
}
