import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { BerthError } from '../../../protocol/errors';
import { Disposable, Emitter } from '../../../protocol/lifecycle';
import type { Transport, TransportCloseEvent } from '../../../protocol/transport';
import { formatHostPort } from '../../../protocol/host-port';

/** Write-buffer level past which `write` asks the caller to wait for onDidDrain. */
const WS_HIGH_WATER_BYTES = 1024 * 1024;
/** Chunks shorter than this are joined with their neighbours into one frame (one copy, fewer frames). */
const WS_JOIN_BELOW_BYTES = 16 * 1024;

/**
 * A WebSocket (from `ws`) as a Transport: each binary message is one chunk, and boundaries carry
 * no meaning. WebSockets cannot half-close, so `end()` closes the connection.
 */
export class WsTransport extends Disposable implements Transport {
	private readonly _onDidReceive = this._register(new Emitter<Uint8Array>());
	readonly onDidReceive = this._onDidReceive.event;
	private readonly _onDidEnd = this._register(new Emitter<void>());
	readonly onDidEnd = this._onDidEnd.event;
	private readonly _onDidClose = this._register(new Emitter<TransportCloseEvent>());
	readonly onDidClose = this._onDidClose.event;
	private readonly _onDidDrain = this._register(new Emitter<void>());
	readonly onDidDrain = this._onDidDrain.event;

	readonly canHalfClose = false;
	readonly remoteAddress: string;
	private readonly socket: Socket;
	private error: Error | undefined;
	private closed = false;
	private corked = false;

	constructor(private readonly ws: WebSocket) {
		super();
		ws.binaryType = 'nodebuffer';
		// `ws` keeps the TCP socket private; its drain event is the only cheap backpressure signal.
		this.socket = (ws as unknown as { _socket: Socket })._socket;
		this.socket.setNoDelay(true);
		this.remoteAddress = formatHostPort(this.socket.remoteAddress, this.socket.remotePort);
		ws.on('message', this.onMessage);
		ws.on('error', this.onError);
		ws.on('close', this.onClose);
		this.socket.on('drain', this.onDrain);
		this._register({
			dispose: () => {
				ws.off('message', this.onMessage);
				this.socket.off('drain', this.onDrain);
				this.uncork(); // what this turn wrote goes out before the socket does
				ws.terminate();
			},
		});
	}

	get bufferedBytes(): number {
		return this.ws.bufferedAmount;
	}

	/**
	 * Changes the longest message `ws` accepts from the peer on this connection, from the next
	 * frame on. `ws` has `maxPayload` only per server (or per client): websocket-server.js copies
	 * it into each connection's Receiver when it completes the upgrade, and the Receiver checks
	 * every frame header against that copy, `_maxPayload`, before it buffers the payload
	 * (receiver.js, haveLength()). The agent's server therefore carries the small bound that holds
	 * before authentication, and this raises it on one connection once its client is
	 * authenticated. The alternatives do not bound memory: a second server cannot take over a
	 * connection, and a large server bound buffers a whole frame per pending handshake. `_receiver`
	 * and `_maxPayload` are private to `ws` (checked here, pinned by the bundled version): if they
	 * are missing, this throws rather than leave the connection with a bound it did not ask for.
	 */
	setMaxPayload(bytes: number): void {
		const receiver = (this.ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
		if (typeof receiver?._maxPayload !== 'number') {
			throw new BerthError('BERTH_ERR_PROTOCOL', 'this version of ws keeps its payload bound elsewhere');
		}
		receiver._maxPayload = bytes;
	}

	write(chunks: readonly Uint8Array[]): boolean {
		if (this.ws.readyState !== this.ws.OPEN) {
			return false;
		}
		// As on raw TCP: every frame of this turn of the event loop leaves in one writev.
		if (!this.corked) {
			this.corked = true;
			this.socket.cork();
			process.nextTick(this.uncork);
		}
		let small: Uint8Array[] = [];
		let smallBytes = 0;
		const flushSmall = (): void => {
			if (small.length > 0) {
				this.ws.send(small.length === 1 ? small[0]! : Buffer.concat(small, smallBytes), SEND_OPTIONS);
				small = [];
				smallBytes = 0;
			}
		};
		for (const chunk of chunks) {
			if (chunk.byteLength < WS_JOIN_BELOW_BYTES) {
				small.push(chunk);
				smallBytes += chunk.byteLength;
				continue;
			}
			// A large chunk goes out as its own frame, uncopied; small ones before it go first.
			flushSmall();
			this.ws.send(chunk, SEND_OPTIONS);
		}
		flushSmall();
		return this.ws.bufferedAmount < WS_HIGH_WATER_BYTES;
	}

	end(): void {
		if (this.ws.readyState === this.ws.OPEN) {
			this.ws.close(1000);
		}
		this.uncork();
	}

	pause(): void {
		this.ws.pause();
	}

	resume(): void {
		this.ws.resume();
	}

	private readonly uncork = (): void => {
		if (this.corked) {
			this.corked = false;
			this.socket.uncork();
		}
	};
	private readonly onMessage = (data: Buffer): void => this._onDidReceive.fire(data);
	private readonly onDrain = (): void => this._onDidDrain.fire();
	private readonly onError = (error: Error): void => {
		this.error ??= error;
		// A peer that broke the framing (a frame over maxPayload, bad bytes) gets no closing
		// handshake: ws would go on reading and dropping its bytes for up to 30 s, waiting for it.
		this.ws.terminate();
	};
	private readonly onClose = (): void => {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this._onDidClose.fire(this.error ? { error: this.error } : {});
	};
}

const SEND_OPTIONS = { binary: true, compress: false } as const;
