import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { decodeUtf8 } from '../../protocol/bytes';
import { DisposableStore } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { TunnelOpener } from './local-forward';

/** How long the agent has to connect back and deliver the probe's nonce. */
const LOOPBACK_PROBE_TIMEOUT_MS = 5_000;
/** Random bytes in the nonce (hex on the wire). */
const PROBE_NONCE_BYTES = 16;

/**
 * Whether an agent that cannot say which network it is on (a VS Code server) shares this
 * client's loopback: this client listens on 127.0.0.1 at a port the system picks and writes a
 * random nonce to whoever connects; the agent is asked to connect to 127.0.0.1 at that port
 * through `opener`. Only an agent on this loopback can deliver the nonce back. Any failure (a
 * refused connect, a timeout, other bytes) means no: the agent is somewhere else.
 */
export async function probeSharedLoopback(opener: TunnelOpener, timers: Timers): Promise<boolean> {
	const nonce = randomBytes(PROBE_NONCE_BYTES).toString('hex');
	const server = createServer((socket) => {
		socket.on('error', () => undefined);
		socket.end(nonce);
	});
	try {
		const port = await listenOnLoopback(server);
		return await readsNonce(opener, port, nonce, timers);
	} finally {
		server.close();
	}
}

function listenOnLoopback(server: Server): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
	});
}

/** Connects through the agent and resolves whether exactly `nonce` comes back in time. */
async function readsNonce(
	opener: TunnelOpener,
	port: number,
	nonce: string,
	timers: Timers,
): Promise<boolean> {
	let connection;
	try {
		connection = await opener('127.0.0.1', port);
	} catch {
		return false;
	}
	const { transport, leftover } = connection;
	const store = new DisposableStore();
	store.add(transport);
	return new Promise<boolean>((resolve) => {
		let received = leftover.map((chunk) => decodeUtf8(chunk)).join('');
		const settle = (answer: boolean): void => {
			store.dispose();
			resolve(answer);
		};
		const check = (): void => {
			if (received === nonce) {
				settle(true);
			} else if (!nonce.startsWith(received)) {
				settle(false);
			}
		};
		store.add(timers.timeout(() => settle(false), LOOPBACK_PROBE_TIMEOUT_MS));
		store.add(
			transport.onDidReceive((chunk) => {
				received += decodeUtf8(chunk);
				check();
			}),
		);
		store.add(transport.onDidClose(() => settle(received === nonce)));
		check();
		transport.resume();
	});
}
