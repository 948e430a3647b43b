import { createServer, type Server, type Socket } from 'node:net';
import { BerthError } from '../../protocol/errors';
import type { IDisposable } from '../../protocol/lifecycle';
import { formatHostPort } from '../../protocol/host-port';
import { FORWARD_LISTEN_BACKLOG } from '../shared/listen-backlog';

/** Accept failures are reported at most this often (a full fd table fails every connection). */
const ACCEPT_ERROR_REPORT_INTERVAL_MS = 5_000;

/** Errors that mean "this machine has no IPv6 loopback", not "the port is taken". */
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

export interface LocalListener extends IDisposable {
	/** The port bound (the same on every address). */
	readonly port: number;
	/** Every address listened on. */
	readonly addresses: readonly string[];
}

/**
 * Listens for a local forward. `localhost` binds both loopbacks, 127.0.0.1 and ::1, on one port
 * (a client resolving `localhost` to either reaches the forward); any other address binds just
 * itself. Sockets are handed over paused, with half-close allowed.
 * @throws BerthError BERTH_ERR_LISTEN when the port is taken or not allowed.
 */
export async function listenLocal(
	bind: string,
	port: number,
	onConnection: (socket: Socket) => void,
	onAcceptError: (message: string) => void = () => undefined,
): Promise<LocalListener> {
	const addresses = bind === 'localhost' ? ['127.0.0.1', '::1'] : [bind];
	const servers: Server[] = [];
	let boundPort = port;
	try {
		for (const [index, address] of addresses.entries()) {
			try {
				servers.push(await listenOne(address, boundPort, onConnection));
			} catch (error) {
				if (index > 0 && NO_IPV6.has((error as NodeJS.ErrnoException).code ?? '')) {
					continue;
				}
				throw error;
			}
			const bound = servers[0]!.address();
			boundPort = typeof bound === 'object' && bound ? bound.port : boundPort;
		}
	} catch (error) {
		for (const server of servers) {
			server.close();
		}
		const code = (error as NodeJS.ErrnoException).code;
		throw new BerthError(
			'BERTH_ERR_LISTEN',
			`cannot listen on ${formatHostPort(bind, port)}: ${code ?? (error as Error).message}` +
				(code === 'EADDRINUSE' ? ' (the local port is in use: pick another)' : ''),
			undefined,
			{ cause: error },
		);
	}
	let lastReport = 0;
	for (const server of servers) {
		// Accept errors (EMFILE when the process is out of file descriptors: the kernel's connection
		// is then closed at once) would otherwise be unhandled 'error' events, or silent resets.
		server.on('error', (error: NodeJS.ErrnoException) => {
			const now = Date.now();
			if (now - lastReport >= ACCEPT_ERROR_REPORT_INTERVAL_MS) {
				lastReport = now;
				onAcceptError(describeAcceptError(error));
			}
		});
	}
	return {
		port: boundPort,
		addresses: servers.map((s) => {
			const a = s.address();
			return typeof a === 'object' && a ? a.address : '?';
		}),
		dispose: () => {
			for (const server of servers) {
				server.close();
			}
		},
	};
}

function listenOne(address: string, port: number, onConnection: (socket: Socket) => void): Promise<Server> {
	const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, onConnection);
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(
			{ host: address, port, ipv6Only: address.includes(':'), backlog: FORWARD_LISTEN_BACKLOG },
			() => {
				server.off('error', reject);
				resolve(server);
			},
		);
	});
}

/** What went wrong accepting a connection, and what to do about it. */
export function describeAcceptError(error: NodeJS.ErrnoException): string {
	if (error.code === 'EMFILE' || error.code === 'ENFILE') {
		return `cannot accept more connections: ${error.code} (out of file descriptors; raise the limit with ulimit -n)`;
	}
	return `cannot accept a connection: ${error.code ?? error.message}`;
}
