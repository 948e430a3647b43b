/** One connection to the echo server (through a path) and its 1-byte round trip: what every load client does. */
import { connect, type Socket } from 'node:net';

/** The byte every round trip sends. */
export const ONE = Buffer.from([0x2a]);
const CONNECT_TIMEOUT_MS = 30_000;

/** A connection to 127.0.0.1:`port` (Nagle off, as every load client sets it). */
export function openSocket(port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: '127.0.0.1', port, noDelay: true });
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`connect to 127.0.0.1:${port}: no answer within ${CONNECT_TIMEOUT_MS} ms`));
		}, CONNECT_TIMEOUT_MS);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.removeAllListeners('error');
			resolve(socket);
		});
		socket.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

/** Writes one byte and resolves when one byte comes back; rejects if the connection ends first. */
export function echoOnce(socket: Socket, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
	return new Promise((resolve, reject) => {
		const cleanup = (): void => {
			clearTimeout(timer);
			socket.off('data', onData);
			socket.off('error', onError);
			socket.off('close', onClose);
		};
		const onData = (): void => {
			cleanup();
			resolve();
		};
		const onError = (error: Error): void => {
			cleanup();
			reject(error);
		};
		const onClose = (): void => {
			cleanup();
			reject(new Error('the connection closed before the echo came back'));
		};
		const timer = setTimeout(() => {
			cleanup();
			reject(new Error(`no echo within ${timeoutMs} ms`));
		}, timeoutMs);
		socket.on('data', onData);
		socket.once('error', onError);
		socket.once('close', onClose);
		socket.write(ONE);
	});
}
