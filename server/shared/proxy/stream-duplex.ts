import { Duplex } from 'node:stream';
import { BerthError } from '../../../protocol/errors';
import { ResetCode, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';

/**
 * A Mux stream as a Node Duplex, for code that wants a socket-like stream (Node's HTTP client
 * through `createConnection`, for a proxy's absolute-form requests). Backpressure both ways: a
 * write that outruns the stream's credit waits for its drain, and bytes the consumer has not read
 * hold back the stream's credit. End and reset map to end and destroy.
 */
export class StreamDuplex extends Duplex implements StreamHandler {
	private pendingWrite: (() => void) | undefined;

	constructor(private readonly stream: MuxStream) {
		super({ allowHalfOpen: true });
		stream.attach(this);
	}

	// --- from the stream ------------------------------------------------------------------

	onData(chunk: Uint8Array): void {
		this.push(chunk);
		this.stream.setBuffered(this.readableLength);
	}

	onEnd(): void {
		this.push(null);
	}

	onReset(reset: StreamReset): void {
		this.destroy(new BerthError('BERTH_ERR_CLOSED', reset.reason));
	}

	onDrain(): void {
		const callback = this.pendingWrite;
		this.pendingWrite = undefined;
		callback?.();
	}

	// --- Duplex ---------------------------------------------------------------------------

	override _read(): void {
		this.stream.setBuffered(this.readableLength);
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		if (this.stream.closed) {
			callback(new BerthError('BERTH_ERR_CLOSED', 'the stream is closed'));
			return;
		}
		if (this.stream.write(chunk)) {
			callback();
		} else {
			this.pendingWrite = () => callback();
		}
	}

	override _final(callback: (error?: Error | null) => void): void {
		this.stream.end();
		callback();
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		if (!this.stream.closed) {
			this.stream.reset(ResetCode.Closed, error?.message ?? 'closed by the proxy');
		}
		callback(error);
	}
}
