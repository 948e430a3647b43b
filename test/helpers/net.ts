import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, host, resolve));
	const port = (server.address() as AddressInfo).port;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** A TCP server on loopback (half-close allowed); `close()` also destroys its connections. */
export async function serve(
	handler: (socket: Socket) => void,
	host = '127.0.0.1',
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
	const sockets = new Set<Socket>();
	const server = createServer({ allowHalfOpen: true }, (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		handler(socket);
	});
	await new Promise<void>((resolve) => server.listen(0, host, resolve));
	return {
		port: (server.address() as AddressInfo).port,
		server,
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) {
					s.destroy();
				}
				server.close(() => resolve());
			}),
	};
}

/** A TCP echo server on loopback; `close()` destroys its connections too. */
export function startEchoServer(
	host = '127.0.0.1',
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
	return serve((socket) => socket.pipe(socket), host);
}

export function sha256(data: Uint8Array | string): string {
	return createHash('sha256').update(data).digest('hex');
}

export function randomData(bytes: number): Buffer {
	return randomBytes(bytes);
}

/** Collects a socket's bytes until it ends. */
export function readAll(socket: Socket): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		socket.on('data', (c: Buffer) => chunks.push(c));
		socket.on('end', () => resolve(Buffer.concat(chunks)));
		socket.on('error', reject);
	});
}

/** One echo round trip ("ping") through `port` on loopback; the socket stays open for the caller. */
export async function echoOnce(port: number): Promise<Socket> {
	const socket = connect(port, '127.0.0.1');
	await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
	socket.write('ping');
	const got = await new Promise<string>((resolve, reject) => {
		socket.once('data', (d: Buffer) => resolve(d.toString()));
		socket.once('error', reject);
	});
	if (got !== 'ping') {
		throw new Error(`the echo answered ${JSON.stringify(got)}, not "ping"`);
	}
	return socket;
}
