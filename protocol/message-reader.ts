import { DEFAULT_MAX_MESSAGE_BYTES, HEADER_BYTES, MAX_CONTROL_MESSAGE_BYTES } from './constants';
import { concatBytes } from './bytes';
import { BerthError } from './errors';
import { MessageType, readU32, type WireMessage } from './wire';

/** A message whose payload is given as one or more views into the received chunks, uncopied. */
export interface SegmentedMessage {
	readonly type: number;
	readonly id: number;
	readonly ack: number;
	/** The payload, in order; empty for an empty payload. Views are never overwritten later. */
	readonly segments: Uint8Array[];
	readonly length: number;
}

/** Bounds a reader enforces before it buffers a message's payload. */
export interface MessageLimits {
	/** Longest Control (handshake) message. */
	readonly maxControlBytes: number;
	/** Longest message of any other type. */
	readonly maxMessageBytes: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
	maxControlBytes: MAX_CONTROL_MESSAGE_BYTES,
	maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
};

/**
 * Parses protocol messages out of a byte stream. Feed it chunks as they arrive; `read()` returns
 * one message at a time. A header whose length is over its bound throws at once, before any of
 * its payload is waited for or allocated: a 4 GiB length costs nothing.
 *
 * `readSegments()` returns payloads as views into the received chunks, never copied (a message
 * usually spans two socket reads); `read()` joins them for callers that want one buffer.
 */
export class MessageReader {
	private chunks: Uint8Array[] = [];
	/** Bytes of chunks[0] already consumed. */
	private offset = 0;
	private buffered = 0;
	private readonly scratch = new Uint8Array(HEADER_BYTES);

	constructor(private limits: MessageLimits = DEFAULT_MESSAGE_LIMITS) {}

	/**
	 * Changes the bounds for every header not parsed yet (the agent raises them once a client's
	 * token is accepted). Bytes already buffered are checked against the new bounds when read.
	 */
	setLimits(limits: MessageLimits): void {
		this.limits = limits;
	}

	/** Bytes received and not yet returned as messages. */
	get bufferedBytes(): number {
		return this.buffered;
	}

	feed(chunk: Uint8Array): void {
		if (chunk.byteLength > 0) {
			this.chunks.push(chunk);
			this.buffered += chunk.byteLength;
		}
	}

	/**
	 * The next whole message as one buffer, or undefined until more bytes arrive.
	 * @throws BerthError (BERTH_ERR_PROTOCOL) when a header announces a length over its bound.
	 */
	read(): WireMessage | undefined {
		const message = this.readSegments();
		if (!message) {
			return undefined;
		}
		const { type, id, ack, segments, length } = message;
		return { type, id, ack, payload: segments.length === 0 ? EMPTY : concatBytes(segments, length) };
	}

	/**
	 * The next whole message with its payload as uncopied views, or undefined until more bytes arrive.
	 * @throws BerthError (BERTH_ERR_PROTOCOL) when a header announces a length over its bound.
	 */
	readSegments(): SegmentedMessage | undefined {
		if (this.buffered < HEADER_BYTES) {
			return undefined;
		}
		const first = this.chunks[0]!;
		let header: Uint8Array;
		let at: number;
		if (first.byteLength - this.offset >= HEADER_BYTES) {
			header = first;
			at = this.offset;
		} else {
			this.peekInto(this.scratch);
			header = this.scratch;
			at = 0;
		}
		const type = header[at]!;
		const length = readU32(header, at + 9);
		const bound = type === MessageType.Control ? this.limits.maxControlBytes : this.limits.maxMessageBytes;
		if (length > bound) {
			throw new BerthError(
				'BERTH_ERR_PROTOCOL',
				`message of type ${type} announces ${length} bytes, over the bound of ${bound}`,
			);
		}
		if (this.buffered < HEADER_BYTES + length) {
			return undefined;
		}
		const id = readU32(header, at + 1);
		const ack = readU32(header, at + 5);
		this.skip(HEADER_BYTES);
		return { type, id, ack, segments: this.takeSegments(length), length };
	}

	/** Hands over every buffered byte (for example, to a raw pipe after the handshake). */
	drain(): Uint8Array[] {
		const rest = this.chunks;
		if (rest.length > 0 && this.offset > 0) {
			rest[0] = rest[0]!.subarray(this.offset);
		}
		this.chunks = [];
		this.offset = 0;
		this.buffered = 0;
		return rest;
	}

	private peekInto(target: Uint8Array): void {
		let filled = 0;
		let offset = this.offset;
		for (const chunk of this.chunks) {
			const n = Math.min(chunk.byteLength - offset, target.byteLength - filled);
			target.set(chunk.subarray(offset, offset + n), filled);
			filled += n;
			offset = 0;
			if (filled === target.byteLength) {
				return;
			}
		}
	}

	private skip(n: number): void {
		this.buffered -= n;
		while (n > 0) {
			const first = this.chunks[0]!;
			const available = first.byteLength - this.offset;
			if (n < available) {
				this.offset += n;
				return;
			}
			n -= available;
			this.chunks.shift();
			this.offset = 0;
		}
	}

	/** The next `n` bytes as views into the chunks that hold them. */
	private takeSegments(n: number): Uint8Array[] {
		const segments: Uint8Array[] = [];
		this.buffered -= n;
		while (n > 0) {
			const first = this.chunks[0]!;
			const available = first.byteLength - this.offset;
			if (n < available) {
				segments.push(first.subarray(this.offset, this.offset + n));
				this.offset += n;
				return segments;
			}
			segments.push(this.offset === 0 ? first : first.subarray(this.offset));
			n -= available;
			this.chunks.shift();
			this.offset = 0;
		}
		return segments;
	}
}

const EMPTY = new Uint8Array(0);
