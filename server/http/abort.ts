import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The one way the agent refuses an HTTP upgrade before any WebSocket exists: a complete HTTP
 * response with a plain-text reason, then the socket is closed.
 */
export function abortUpgrade(socket: Duplex, status: number, message: string): void {
	if (socket.destroyed) {
		return;
	}
	const body = message + '\n';
	socket.end(
		`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
			'Connection: close\r\n' +
			'Content-Type: text/plain; charset=utf-8\r\n' +
			`Content-Length: ${Buffer.byteLength(body)}\r\n` +
			'\r\n' +
			body,
	);
	socket.destroySoon?.();
}

declare module 'node:stream' {
	interface Duplex {
		/** net.Socket's: destroy once the write queue is flushed. */
		destroySoon?(): void;
	}
}
