import type { Socket } from 'node:net';
import { errorMessage } from '../../protocol/errors';
import { onUnexpectedError } from '../../protocol/lifecycle';
import { ResetCode, type StreamReset } from '../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../protocol/mux-stream';
import { resetCodeFor } from './reset-code';

/**
 * How a bridged connection ended: `clean` (the socket closed after both FINs, or by this side's
 * own choice), or `reset` with the code and reason of the reset, whichever side it came from.
 */
export type BridgeEnd =
	{ readonly kind: 'clean' } | { readonly kind: 'reset'; readonly code: ResetCode; readonly reason: string };

const CLEAN: BridgeEnd = { kind: 'clean' };

/**
 * Watches bridged connections: one object for all the connections of a forward or a session,
 * so that a connection costs no closure of its own.
 */
export interface BridgeObserver {
	/** Bytes from the stream written to the socket. */
	toSocket?(bytes: number): void;
	/** Bytes from the socket sent on the stream. */
	toStream?(bytes: number): void;
	/** One connection is over (called once per connection). */
	closed?(end: BridgeEnd): void;
}

/**
 * Joins a stream and a TCP socket, both ways, with backpressure and half-close:
 * - socket bytes go out on the stream; when the stream's credit runs out the socket is paused
 *   until the stream drains;
 * - stream bytes are written to the socket, and the socket's unwritten bytes are reported to the
 *   stream, so credit flows back only as the socket really takes them;
 * - a FIN either way becomes an End (and back), leaving the other direction open;
 * - an error or reset on either side ends both, with the reason.
 * Used at both ends: the agent (stream ↔ target) and the client (local connection ↔ stream).
 * The socket's listeners are shared functions that find their bridge through the socket, not
 * closures made per connection: with tens of thousands of idle connections, each byte counts.
 */
export class StreamSocketBridge implements StreamHandler {
	private streamDone = false;
	private socketClosed = false;
	private reported = false;
	/** The socket sent its FIN (we passed it on as End). */
	private socketEnded = false;
	/** The stream's End arrived (we passed it on as the socket's FIN). */
	private streamEnded = false;

	constructor(
		private readonly stream: MuxStream,
		private readonly socket: Socket,
		private readonly observer: BridgeObserver | undefined,
	) {}

	/**
	 * Starts moving bytes (resumes the socket, which callers usually create paused). `initial`
	 * holds bytes already read from the socket (a proxy read past its handshake): they go to the
	 * stream first, in order.
	 */
	start(initial: readonly Uint8Array[] = []): void {
		const socket = this.socket as BridgedSocket;
		socket[kBridge] = this;
		socket.on('data', onSocketData);
		socket.on('end', onSocketEnd);
		socket.on('drain', onSocketDrain);
		socket.on('error', onSocketError);
		socket.on('close', onSocketClose);
		this.stream.attach(this);
		let paused = false;
		for (const chunk of initial) {
			if (chunk.byteLength > 0) {
				this.observer?.toStream?.(chunk.byteLength);
				paused = !this.stream.write(chunk) || paused;
			}
		}
		if (!paused) {
			socket.resume();
		}
	}

	// --- StreamHandler: from the stream --------------------------------------------------

	onData(chunk: Uint8Array): void {
		this.socket.write(chunk);
		this.observer?.toSocket?.(chunk.byteLength);
		this.stream.setBuffered(this.socket.writableLength);
	}

	onEnd(): void {
		this.streamEnded = true;
		this.socket.end();
	}

	onReset(reset: StreamReset): void {
		this.streamDone = true;
		// A reset is a failure, not an end: the client sees ECONNRESET, not an empty reply.
		resetSocket(this.socket);
		this.report({ kind: 'reset', code: reset.code, reason: reset.reason });
	}

	onDrain(): void {
		this.socket.resume();
	}

	// --- from the socket (called by the shared listeners below) ------------------------------

	/** @internal */
	socketData(chunk: Buffer): void {
		this.observer?.toStream?.(chunk.byteLength);
		if (!this.stream.write(chunk)) {
			this.socket.pause();
		}
	}

	/** @internal */
	socketEnd(): void {
		this.socketEnded = true;
		this.stream.end();
	}

	/** @internal */
	socketDrain(): void {
		this.stream.setBuffered(this.socket.writableLength);
	}

	/** @internal */
	socketError(error: Error): void {
		const code = resetCodeFor(error);
		if (!this.streamDone) {
			this.streamDone = true;
			this.stream.reset(code, error.message);
		}
		this.report({ kind: 'reset', code, reason: error.message });
	}

	/** @internal */
	socketClose(): void {
		this.socketClosed = true;
		this.stream.setBuffered(0);
		// After both FINs the stream finishes on its own (its End may still wait behind data that
		// waits for credit). A socket that closed any other way was cut off: the peer must know.
		if (!this.streamDone && !(this.socketEnded && this.streamEnded)) {
			this.streamDone = true;
			this.stream.reset(ResetCode.Closed, 'the connection closed');
		}
		this.report(CLEAN);
	}

	/**
	 * A bug in this bridge's handling (a handler threw): this connection ends, reported as an
	 * unexpected error, and nothing else does.
	 */
	fail(error: unknown): void {
		onUnexpectedError(error);
		if (!this.streamDone) {
			this.streamDone = true;
			this.stream.reset(ResetCode.Error, `internal error: ${errorMessage(error)}`);
		}
		this.socket.destroy();
		this.report({ kind: 'reset', code: ResetCode.Error, reason: errorMessage(error) });
	}

	private report(end: BridgeEnd): void {
		if (!this.reported && (this.socketClosed || end.kind === 'reset')) {
			this.reported = true;
			this.observer?.closed?.(end);
		}
	}
}

/**
 * Ends `socket` with an RST; but while the FIN that `socket.end()` asked for is still under way,
 * closes it plainly. libuv refuses to reset a socket whose shutdown has been requested and not
 * yet made (EINVAL: from `end()` with nothing left to write until the next turn of the event
 * loop), and Node then drops the handle without closing it: the descriptor stays open for good
 * and 'close' never comes. That is what an End followed at once by a Reset did (the soak's
 * leaked descriptors). A plain close still sends an RST when unread bytes are left, else the FIN,
 * and the peer's next write is answered with an RST. With bytes still waiting to be written the
 * shutdown has not been requested yet, so the reset is safe, and it drops them.
 */
function resetSocket(socket: Socket): void {
	const shutdownUnderWay = socket.writableEnded && !socket.writableFinished && socket.writableLength === 0;
	if (shutdownUnderWay) {
		socket.destroy();
	} else {
		socket.resetAndDestroy();
	}
}

const kBridge = Symbol('berth.bridge');
type BridgedSocket = Socket & { [kBridge]: StreamSocketBridge };

// Shared listeners: EventEmitter calls them with `this` = the socket. A throw from a socket event
// would be an uncaught exception (the process's end), so each one ends only its own connection.
function onSocketData(this: BridgedSocket, chunk: Buffer): void {
	try {
		this[kBridge].socketData(chunk);
	} catch (error) {
		this[kBridge].fail(error);
	}
}
function onSocketEnd(this: BridgedSocket): void {
	try {
		this[kBridge].socketEnd();
	} catch (error) {
		this[kBridge].fail(error);
	}
}
function onSocketDrain(this: BridgedSocket): void {
	try {
		this[kBridge].socketDrain();
	} catch (error) {
		this[kBridge].fail(error);
	}
}
function onSocketError(this: BridgedSocket, error: Error): void {
	try {
		this[kBridge].socketError(error);
	} catch (bug) {
		this[kBridge].fail(bug);
	}
}
function onSocketClose(this: BridgedSocket): void {
	try {
		this[kBridge].socketClose();
	} catch (error) {
		this[kBridge].fail(error);
	}
}
