import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The agent's certificate chain and private key, PEM (`berth server --tls-cert`, `--tls-key`). */
export interface TlsCredentials {
	readonly cert: Buffer;
	readonly key: Buffer;
}

export interface AgentServerOptions {
	/** Headers, whole requests and (with TLS) the TLS handshake must each finish within this. */
	readonly timeoutMs: number;
	/** Serve HTTPS and WSS with these; plain HTTP and WS without. */
	readonly tls?: TlsCredentials;
}

/** The agent's listening server, and how to find the TCP socket under a connection. */
export interface AgentServer {
	/**
	 * Plain HTTP, or HTTPS: Node's https.Server is a tls.Server with http.Server's events
	 * (`request`, `upgrade`, `clientError`) and methods, so the agent drives both the same way.
	 */
	readonly server: Server;
	readonly scheme: 'ws' | 'wss';
	/**
	 * The TCP socket `socket` runs on: itself for plain connections; under TLS, the socket that
	 * `connection` reported when it was accepted, which is what the agent bounds and tracks.
	 */
	tcpOf(socket: Socket): Socket;
}

/**
 * Creates the agent's server, HTTPS when `tls` is given (the same handler serves `https://` and
 * `wss://` on the one port). Under TLS the `connection` event reports the TCP socket, before its
 * TLS handshake, while requests and upgrades carry the TLSSocket on top of it: the agent keeps
 * its bounds on the TCP socket, so a TLS handshake counts against the pending bound and the
 * handshake deadline like any other unauthenticated time, and `tcpOf` leads back to it.
 */
export function createAgentServer(options: AgentServerOptions): AgentServer {
	const common = {
		// VS Code's desktop client sends no Host header.
		requireHostHeader: false,
		headersTimeout: options.timeoutMs,
		requestTimeout: options.timeoutMs,
		connectionsCheckingInterval: 1_000,
		keepAliveTimeout: 5_000,
	};
	if (options.tls === undefined) {
		return { server: createHttpServer(common), scheme: 'ws', tcpOf: (socket) => socket };
	}
	const server = createHttpsServer({
		...common,
		cert: options.tls.cert,
		key: options.tls.key,
		handshakeTimeout: options.timeoutMs,
	});
	const pairs = new TlsPairs();
	server.on('connection', (socket: Socket) => pairs.accepted(socket));
	server.on('secureConnection', (socket: TLSSocket) => pairs.secured(socket));
	return { server: server as unknown as Server, scheme: 'wss', tcpOf: (socket) => pairs.tcpOf(socket) };
}

/**
 * Whether a `clientError` is a failed TLS handshake (https.Server reports them there too): a
 * client that does not trust the certificate, speaks plain HTTP to this port, or stalls. There is
 * no HTTP to answer it with.
 */
export function isTlsHandshakeError(error: NodeJS.ErrnoException): boolean {
	return (
		error.code !== undefined &&
		(error.code.startsWith('ERR_SSL_') || error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
	);
}

/**
 * Pairs each TLSSocket with the TCP socket under it. Node does not expose the link, so the pair
 * is found by the connection's four addresses, which no two open connections share; only
 * sockets in their TLS handshake wait in the map.
 */
class TlsPairs {
	private readonly handshaking = new Map<string, Socket>();
	private readonly under = new WeakMap<Socket, Socket>();

	accepted(tcp: Socket): void {
		const key = connectionKey(tcp);
		this.handshaking.set(key, tcp);
		tcp.once('close', () => {
			if (this.handshaking.get(key) === tcp) {
				this.handshaking.delete(key);
			}
		});
	}

	secured(tls: TLSSocket): void {
		const key = connectionKey(tls);
		const tcp = this.handshaking.get(key);
		if (tcp !== undefined) {
			this.handshaking.delete(key);
			this.under.set(tls, tcp);
		}
	}

	tcpOf(socket: Socket): Socket {
		return this.under.get(socket) ?? socket;
	}
}

function connectionKey(socket: Socket): string {
	return `${socket.localAddress} ${socket.localPort} ${socket.remoteAddress} ${socket.remotePort}`;
}
