import type { Socket } from 'node:net';
import { Disposable, Emitter } from '../../../protocol/lifecycle';
import type { Transport, TransportCloseEvent } from '../../../protocol/transport';
import { formatHostPort } from '../../../protocol/host-port';

/**
 * A TCP socket as a Transport: the raw path (`skipWebSocketFrames=true`) after the HTTP upgrade.
 * Writes made in one turn of the event loop are corked together and leave in one writev, so a
 * message header and its payload never cost two system calls (and never a copy to join them).
 */
export class TcpTransport extends Disposable implements Transport {
	private readonly _onDidReceive = this._register(new Emitter<Uint8Array>());
	readonly onDidReceive = this._onDidReceive.event;
	private readonly _onDidEnd = this._register(new Emitter<void>());
	readonly onDidEnd = this._onDidEnd.event;
	private readonly _onDidClose = this._register(new Emitter<TransportCloseEvent>());
	readonly onDidClose = this._onDidClose.event;
	private readonly _onDidDrain = this._register(new Emitter<void>());
	readonly onDidDrain = this._onDidDrain.event;

	readonly canHalfClose = true;
	readonly remoteAddress: string;
	private corked = false;
	private error: Error | undefined;
	private closed = false;

	constructor(private readonly socket: Socket) {
		super();
		this.remoteAddress = formatHostPort(socket.remoteAddress, socket.remotePort);
		socket.setNoDelay(true);
		socket.on('data', this.onData);
		socket.on('end', this.onEnd);
		socket.on('drain', this.onDrain);
		socket.on('error', this.onError);
		socket.on('close', this.onClose);
		if (socket.destroyed) {
			queueMicrotask(this.onClose);
		}
		this._register({
			dispose: () => {
				socket.off('data', this.onData);
				socket.destroy();
			},
		});
	}

	get bufferedBytes(): number {
		return this.socket.writableLength;
	}

	write(chunks: readonly Uint8Array[]): boolean {
		const socket = this.socket;
		if (socket.destroyed || socket.writableEnded) {
			return false;
		}
		if (!this.corked) {
			this.corked = true;
			socket.cork();
			process.nextTick(this.uncork);
		}
		for (const chunk of chunks) {
			socket.write(chunk);
		}
		return !socket.writableNeedDrain;
	}

	end(): void {
		if (!this.socket.destroyed) {
			this.socket.end();
		}
	}

	pause(): void {
		this.socket.pause();
	}

	resume(): void {
		this.socket.resume();
	}

	private readonly uncork = (): void => {
		this.corked = false;
		this.socket.uncork();
	};
	private readonly onData = (chunk: Buffer): void => this._onDidReceive.fire(chunk);
	private readonly onEnd = (): void => this._onDidEnd.fire();
	private readonly onDrain = (): void => this._onDidDrain.fire();
	private readonly onError = (error: Error): void => {
		this.error ??= error;
	};
	private readonly onClose = (): void => {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this._onDidClose.fire(this.error ? { error: this.error } : {});
	};
}
