import {
	MUX_MAX_DATA_FRAME_BYTES,
	MUX_MAX_STREAMS,
	MUX_QUANTUM_BYTES,
	MUX_SESSION_BUFFER_CAP_BYTES,
	MUX_WRITE_HIGH_WATER_BYTES,
} from './constants';
import { Disposable, type Event } from './lifecycle';
import {
	encodeFrame,
	encodeFrameHeader,
	encodeOpen,
	encodeReset,
	encodeWindow,
	FRAME_HEADER_BYTES,
	FrameKind,
	parseOpenTarget,
	parseReset,
	type OpenTarget,
} from './mux-frames';
import { MuxStream, type StreamOwner } from './mux-stream';
import { concatBytes } from './bytes';
import { readU32, writeU32 } from './wire';

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
	readonly bufferedBytes: number;
	/** One message's payload, as segments (views, uncopied). */
	readonly onDidReceiveMessage: Event<readonly Uint8Array[]>;
	readonly onDidDrain: Event<void>;
}

export interface MuxOptions {
	readonly channel: MessageChannel;
	/** The client opens odd stream ids, the agent even ones. */
	readonly role: 'client' | 'agent';
	/** The peer opened a stream: reach `target`, then `stream.accept()` and attach, or `stream.reset(reason)`. */
	readonly onOpen: (stream: MuxStream, target: OpenTarget) => void;
	/** One RPC message arrived. */
	readonly onRpc: (bytes: Uint8Array) => void;
	/** The peer broke the framing: the session should be closed. */
	readonly onProtocolError: (message: string) => void;
	readonly maxStreams?: number;
	readonly sessionBufferCapBytes?: number;
	readonly highWaterBytes?: number;
}

/**
 * Many streams and one RPC lane over one session. Data frames go straight to the socket while it
 * keeps up; once more than a high-water mark is queued in it, streams wait their turn and are
 * served round robin, a quantum each, so a bulk transfer cannot starve an interactive stream.
 * RPC, Open, End, Reset and Window frames never wait behind data. Credit windows (mux-stream.ts)
 * bound what each stream may have in flight, and a session-wide cap on buffered bytes holds back
 * every grant once a session's readers fall too far behind.
 */
export class Mux extends Disposable implements StreamOwner {
	private readonly streams = new Map<number, MuxStream>();
	private readonly ready: MuxStream[] = [];
	/** Streams that were refused credit because of the session cap. */
	private readonly starved = new Set<MuxStream>();
	private nextId: number;
	private congested = false;
	private bufferedTotal = 0;
	private readonly maxStreams: number;
	private readonly bufferCap: number;
	private readonly highWater: number;
	/** A Data frame header, rewritten for each frame (the channel copies it at once). */
	private readonly dataHeader = encodeFrameHeader(FrameKind.Data, 0);
	/** For headers that straddle two segments. */
	private readonly headerScratch = new Uint8Array(FRAME_HEADER_BYTES);

	constructor(private readonly options: MuxOptions) {
		super();
		this.nextId = options.role === 'client' ? 1 : 2;
		this.maxStreams = options.maxStreams ?? MUX_MAX_STREAMS;
		this.bufferCap = options.sessionBufferCapBytes ?? MUX_SESSION_BUFFER_CAP_BYTES;
		this.highWater = options.highWaterBytes ?? MUX_WRITE_HIGH_WATER_BYTES;
		this._register(options.channel.onDidReceiveMessage((payload) => this.receive(payload)));
		this._register(options.channel.onDidDrain(() => this.onDrain()));
		this._register({ dispose: () => this.closeAll('the session closed') });
	}

	/** Streams open now. */
	get streamCount(): number {
		return this.streams.size;
	}

	/** Received bytes that stream owners still hold, across the session. */
	get bufferedBytes(): number {
		return this.bufferedTotal;
	}

	/**
	 * Opens a stream to `target`. Data may be written at once (within the initial credit): it is
	 * held by the other side until the target is reached, saving a round trip per connection.
	 */
	open(target: OpenTarget): MuxStream {
		if (this.streams.size >= this.maxStreams) {
			throw new Error(`too many streams open in this session (${this.maxStreams})`);
		}
		const id = this.nextId;
		this.nextId += 2;
		const stream = new MuxStream(this, id);
		this.streams.set(id, stream);
		this.options.channel.send(encodeOpen(id, target));
		return stream;
	}

	/** Sends one RPC message; it never waits behind stream data. */
	sendRpc(bytes: Uint8Array): void {
		if (!this.isDisposed) {
			this.options.channel.send(encodeFrame(FrameKind.Rpc, 0, bytes));
		}
	}

	// --- StreamOwner ------------------------------------------------------------------------

	writeData(stream: MuxStream, chunk: Uint8Array): boolean {
		if (stream.closed || stream.sentEnd || stream.endQueued || this.isDisposed) {
			return false;
		}
		if (stream.pendingBytes === 0 && !this.congested && chunk.byteLength <= stream.credit) {
			this.sendData(stream, chunk);
			return true;
		}
		(stream.pending ??= []).push(chunk);
		stream.pendingBytes += chunk.byteLength;
		this.schedule(stream);
		if (!this.congested) {
			this.flush();
		}
		// While the socket is congested a stream keeps queueing up to its credit, so the pipe is
		// full again the moment it drains; only a stream out of credit stops its source.
		if (stream.pendingBytes > 0 && stream.pendingBytes >= stream.credit) {
			stream.sourcePaused = true;
			return false;
		}
		return true;
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

	resetStream(stream: MuxStream, reason: string, tellPeer: boolean): void {
		if (stream.closed) {
			return;
		}
		if (tellPeer && !this.isDisposed) {
			this.options.channel.send(encodeReset(stream.id, reason));
		}
		this.forget(stream);
		stream.terminate(reason);
	}

	acceptStream(stream: MuxStream): void {
		if (!stream.closed && !this.isDisposed) {
			this.options.channel.send(encodeFrame(FrameKind.OpenOk, stream.id));
		}
	}

	grant(stream: MuxStream, increment: number): boolean {
		if (this.bufferedTotal >= this.bufferCap) {
			this.starved.add(stream);
			return false;
		}
		this.options.channel.send(encodeWindow(stream.id, increment));
		return true;
	}

	bufferedChanged(delta: number): void {
		const wasOver = this.bufferedTotal >= this.bufferCap;
		this.bufferedTotal += delta;
		if (wasOver && this.bufferedTotal < this.bufferCap && this.starved.size > 0) {
			const starved = [...this.starved];
			this.starved.clear();
			for (const stream of starved) {
				stream.maybeGrant();
			}
		}
	}

	// --- sending ----------------------------------------------------------------------------

	private sendData(stream: MuxStream, chunk: Uint8Array): void {
		for (let offset = 0; offset < chunk.byteLength; offset += MUX_MAX_DATA_FRAME_BYTES) {
			const piece =
				offset === 0 && chunk.byteLength <= MUX_MAX_DATA_FRAME_BYTES
					? chunk
					: chunk.subarray(offset, offset + MUX_MAX_DATA_FRAME_BYTES);
			stream.credit -= piece.byteLength;
			writeU32(this.dataHeader, 1, stream.id);
			this.options.channel.send(piece, this.dataHeader);
		}
		if (this.options.channel.bufferedBytes > this.highWater) {
			this.congested = true;
		}
	}

	private sendEnd(stream: MuxStream): void {
		stream.sentEnd = true;
		stream.endQueued = false;
		this.options.channel.send(encodeFrame(FrameKind.End, stream.id));
		this.closeIfDone(stream);
	}

	private schedule(stream: MuxStream): void {
		if (!stream.scheduled && stream.credit > 0 && stream.pendingBytes > 0) {
			stream.scheduled = true;
			this.ready.push(stream);
		}
	}

	/** Serves waiting streams round robin, a quantum each, until the socket is congested again. */
	private flush(): void {
		while (!this.congested && this.ready.length > 0) {
			const stream = this.ready.shift()!;
			stream.scheduled = false;
			if (stream.closed) {
				continue;
			}
			let budget = Math.min(MUX_QUANTUM_BYTES, stream.credit);
			const pending = stream.pending!;
			while (budget > 0 && pending.length > 0) {
				const head = pending[0]!;
				const piece = head.byteLength <= budget ? head : head.subarray(0, budget);
				if (piece === head) {
					pending.shift();
				} else {
					pending[0] = head.subarray(budget);
				}
				stream.pendingBytes -= piece.byteLength;
				budget -= piece.byteLength;
				this.sendData(stream, piece);
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

	/** Restarts a stream's paused source once it has room within its credit again. */
	private resumeSource(stream: MuxStream): void {
		if (stream.sourcePaused && stream.pendingBytes < stream.credit) {
			stream.sourcePaused = false;
			stream.drained();
		}
	}

	private onDrain(): void {
		if (this.congested && this.options.channel.bufferedBytes <= this.highWater) {
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
			this.resetStream(stream, 'flow control violated: more data than the granted window', true);
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
			this.options.channel.send(encodeReset(id, 'malformed open request'));
			return;
		}
		if (this.streams.size >= this.maxStreams) {
			this.options.channel.send(
				encodeReset(id, `too many streams open in this session (${this.maxStreams})`),
			);
			return;
		}
		const stream = new MuxStream(this, id);
		this.streams.set(id, stream);
		this.options.onOpen(stream, target);
	}

	private closeIfDone(stream: MuxStream): void {
		if (stream.sentEnd && stream.gotEnd && stream.pendingBytes === 0) {
			this.forget(stream);
			stream.closed = true;
		}
	}

	private forget(stream: MuxStream): void {
		this.streams.delete(stream.id);
		this.starved.delete(stream);
	}

	private closeAll(reason: string): void {
		const streams = [...this.streams.values()];
		this.streams.clear();
		this.ready.length = 0;
		this.starved.clear();
		for (const stream of streams) {
			stream.terminate(reason);
		}
	}
}
