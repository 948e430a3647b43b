import type { Socket } from 'node:net';
import { DisposableStore, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';

/** Bytes carried each way once a pipe is over. */
export interface PipeResult {
	/** From the transport to the socket. */
	readonly bytesToSocket: number;
	/** From the socket to the transport. */
	readonly bytesToTransport: number;
	readonly error?: Error;
}

/** Live byte counts, for counters that move while a connection is open. */
export interface PipeMeter {
	toSocket(bytes: number): void;
	toTransport(bytes: number): void;
}

export interface PipeOptions {
	/** For the linger after one side is gone. */
	readonly timers: Timers;
	readonly meter?: PipeMeter;
}

/** How long a half-finished pipe may wait for its last FIN once the other end is gone. */
const CLOSE_LINGER_MS = 5_000;

/**
 * Joins a Transport (a Tunnel connection) and a TCP socket, both ways, with backpressure: a
 * side that cannot take more pauses the other. A FIN travels on its own (half-close), so a
 * client that shuts its write side still gets the late reply, where the transport can
 * half-close (raw TCP); a WebSocket closes as a whole. An error or reset on either side destroys
 * both. Resolves once both are closed.
 */
export function pipeTransportAndSocket(
	transport: Transport,
	leftover: readonly Uint8Array[],
	socket: Socket,
	options: PipeOptions,
): Promise<PipeResult> {
	const meter = options.meter;
	return new Promise((resolve) => {
		const store = new DisposableStore();
		let toSocket = 0;
		let toTransport = 0;
		let error: Error | undefined;
		let transportClosed = false;
		let socketClosed = false;
		let linger: IDisposable | undefined;

		const finish = (): void => {
			if (transportClosed && socketClosed) {
				linger?.dispose();
				store.dispose();
				resolve({ bytesToSocket: toSocket, bytesToTransport: toTransport, ...(error ? { error } : {}) });
			}
		};
		const lingerThenDestroy = (): void => {
			linger ??= options.timers.timeout(() => {
				socket.destroy();
				transport.dispose();
			}, CLOSE_LINGER_MS);
		};

		for (const chunk of leftover) {
			toSocket += chunk.byteLength;
			meter?.toSocket(chunk.byteLength);
			socket.write(chunk);
		}
		store.add(
			transport.onDidReceive((chunk) => {
				toSocket += chunk.byteLength;
				meter?.toSocket(chunk.byteLength);
				if (!socket.write(chunk)) {
					transport.pause();
				}
			}),
		);
		const onSocketDrain = (): void => transport.resume();
		const onSocketData = (chunk: Buffer): void => {
			toTransport += chunk.byteLength;
			meter?.toTransport(chunk.byteLength);
			if (!transport.write([chunk])) {
				socket.pause();
			}
		};
		const onSocketEnd = (): void => transport.end();
		const onSocketError = (e: Error): void => {
			error ??= e;
			transport.dispose();
		};
		const onSocketClose = (): void => {
			socketClosed = true;
			if (!transportClosed) {
				transport.end();
				lingerThenDestroy();
			}
			finish();
		};
		socket.on('drain', onSocketDrain);
		socket.on('data', onSocketData);
		socket.on('end', onSocketEnd);
		socket.on('error', onSocketError);
		socket.on('close', onSocketClose);
		store.add({
			dispose: () => {
				socket.off('drain', onSocketDrain);
				socket.off('data', onSocketData);
				socket.off('end', onSocketEnd);
				socket.off('error', onSocketError);
				socket.off('close', onSocketClose);
			},
		});
		store.add(transport.onDidDrain(() => socket.resume()));
		store.add(transport.onDidEnd(() => socket.end()));
		store.add(
			transport.onDidClose((e) => {
				transportClosed = true;
				if (e.error) {
					error ??= e.error;
					socket.destroy();
				} else if (!socketClosed) {
					// Nobody is left to read the socket: flush what was written to it, then close it.
					socket.end(() => socket.destroy());
					lingerThenDestroy();
				}
				finish();
			}),
		);
	});
}
