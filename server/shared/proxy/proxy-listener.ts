import { createServer, type Server, type Socket } from 'node:net';
import { BerthError, errorMessage } from '../../../protocol/errors';
import { ResetCode } from '../../../protocol/mux-frames';
import { formatHostPort } from '../../../protocol/host-port';
import { Disposable, toDisposable, type IDisposable } from '../../../protocol/lifecycle';
import { encodeReply, SOCKS5_VERSION, SocksCommand, SocksReply, UNSPECIFIED } from '../../../protocol/socks5';
import type { Timers } from '../../../protocol/timers';
import { FORWARD_LISTEN_BACKLOG } from '../listen-backlog';
import type { Logger } from '../log';
import { HttpProxyHandler } from './http-proxy-handler';
import type { ProxyCredentials } from './proxy-credentials';
import { ProxyConnections, type ProxyObserver } from './proxy-connections';
import { socksReplyFor } from './proxy-replies';
import type { ProxyRequest, ProxyRoute } from './proxy-route';
import { runSocks5Handshake } from './socks5-handshake';
import { UdpAssociation } from './udp-association';

/** A proxy client has this long from connect to a complete request (greeting, credentials, target). */
export const PROXY_HANDSHAKE_TIMEOUT_MS = 10_000;
/** SOCKS4's first byte: answered with SOCKS4's "request rejected" so the client says something useful. */
const SOCKS4_VERSION = 4;
const SOCKS4_REJECTED = Uint8Array.of(0x00, 0x5b, 0, 0, 0, 0, 0, 0);

export interface ProxyListenerOptions {
	readonly bind: string;
	/** 0 picks a free port. */
	readonly port: number;
	readonly route: ProxyRoute;
	readonly credentials: ProxyCredentials;
	readonly timers: Timers;
	readonly log: Logger;
	/** Counts the proxy's connections and bytes (one observer for all of them). */
	readonly observer?: ProxyObserver;
	readonly handshakeTimeoutMs?: number;
}

/**
 * One port that speaks SOCKS5 and HTTP proxying, told apart by the first byte (5: SOCKS5; a
 * letter: an HTTP request line). Each connection has PROXY_HANDSHAKE_TIMEOUT_MS to name its
 * target; then the route opens a stream to it, the client is answered in its protocol's words
 * (SOCKS5 reply codes, HTTP 200/403/502), and the two are bridged. Bad input gets a protocol
 * answer where there is one and a closed socket, never more than the handshake's bound in memory.
 */
export class ProxyListener extends Disposable {
	private readonly server: Server;
	private readonly connections: ProxyConnections;
	private readonly http: HttpProxyHandler;
	private readonly sockets = new Set<Socket>();
	/** Each socket's handshake timer, until its request is complete (or it closes). */
	private readonly handshakes = new Map<Socket, IDisposable>();
	private readonly handshakeTimeoutMs: number;
	/** Every socket's 'close' listener (one function for all of them; `this` is the socket). */
	private readonly forgetSocket: (this: Socket) => void;

	private constructor(private readonly options: ProxyListenerOptions) {
		super();
		this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? PROXY_HANDSHAKE_TIMEOUT_MS;
		const { sockets, handshakes } = this;
		this.forgetSocket = function (this: Socket): void {
			sockets.delete(this);
			handshakes.get(this)?.dispose();
			handshakes.delete(this);
		};
		this.connections = new ProxyConnections(
			options.route,
			options.credentials,
			options.timers,
			options.log,
			options.observer,
		);
		this.http = this._register(new HttpProxyHandler(this.connections, options.log, this.handshakeTimeoutMs));
		this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
			this.onConnection(socket),
		);
		this._register(
			toDisposable(() => {
				this.server.close();
				for (const timer of this.handshakes.values()) {
					timer.dispose();
				}
				this.handshakes.clear();
				for (const socket of this.sockets) {
					socket.destroy();
				}
			}),
		);
	}

	/** Listens; rejects with BERTH_ERR_LISTEN when the port cannot be had. */
	static async listen(options: ProxyListenerOptions): Promise<ProxyListener> {
		const listener = new ProxyListener(options);
		await new Promise<void>((resolve, reject) => {
			listener.server.once('error', (error: NodeJS.ErrnoException) => {
				listener.dispose();
				reject(
					new BerthError(
						'BERTH_ERR_LISTEN',
						`cannot listen on ${formatHostPort(options.bind, options.port)}: ${error.code ?? error.message}` +
							(error.code === 'EADDRINUSE' ? ' (the port is in use: pick another)' : ''),
						undefined,
						{ cause: error },
					),
				);
			});
			listener.server.listen(
				{
					host: options.bind,
					port: options.port,
					backlog: FORWARD_LISTEN_BACKLOG,
					ipv6Only: options.bind.includes(':'),
				},
				resolve,
			);
		});
		listener.server.on('error', (error) =>
			options.log.warn('proxy listener error', { error: error.message }),
		);
		return listener;
	}

	get port(): number {
		const address = this.server.address();
		return typeof address === 'object' && address ? address.port : this.options.port;
	}

	/**
	 * Takes an accepted (paused) socket through its first byte. Its listeners are functions every
	 * socket shares, its handshake timer lives in `handshakes` only until the request is complete:
	 * with tens of thousands of idle connections, nothing of the handshake stays per connection
	 * once the bridge has the socket.
	 */
	private onConnection(socket: Socket): void {
		this.sockets.add(socket);
		socket.on('close', this.forgetSocket);
		socket.on('error', ignoreError); // the bridge or the handler reports what matters
		this.handshakes.set(
			socket,
			this.options.timers.timeout(() => socket.destroy(), this.handshakeTimeoutMs),
		);
		socket.once('data', (first: Buffer) => {
			socket.pause();
			this.dispatch(socket, first).catch((error: unknown) => {
				this.options.log.warn('proxy connection failed', { error: errorMessage(error) });
				socket.destroy();
			});
		});
		socket.resume();
	}

	/** The handshake's clock stops: the request is complete, or another handler bounds its time. */
	private endHandshake(socket: Socket): void {
		this.handshakes.get(socket)?.dispose();
		this.handshakes.delete(socket);
	}

	/** SOCKS5 or HTTP, by the first byte; anything else is closed. */
	private async dispatch(socket: Socket, first: Buffer): Promise<void> {
		const byte = first[0]!;
		if (byte === SOCKS5_VERSION) {
			await this.socks5(socket, first);
		} else if (byte === SOCKS4_VERSION) {
			socket.end(SOCKS4_REJECTED); // Berth speaks SOCKS5 (socks5:// or socks5h://), not SOCKS4
		} else if (byte >= 0x41 && byte <= 0x5a) {
			// An HTTP method: Node's parser bounds the head and its time (headersTimeout).
			this.endHandshake(socket);
			this.http.accept(socket, first);
		} else {
			this.options.log.debug('closed a proxy connection that spoke neither SOCKS5 nor HTTP', { byte });
			socket.destroy();
		}
	}

	private async socks5(socket: Socket, first: Buffer): Promise<void> {
		const request = await runSocks5Handshake(socket, first, this.options.credentials);
		if ('failed' in request) {
			this.options.log.debug('SOCKS5 handshake refused', { why: request.failed });
			socket.end();
			return;
		}
		if (request.command !== SocksCommand.Connect && request.command !== SocksCommand.UdpAssociate) {
			socket.end(encodeReply(SocksReply.CommandNotSupported)); // BIND: nothing to bind on the far side
			return;
		}
		if (request.user.error !== undefined) {
			this.options.log.debug('proxy config not applied', {
				error: request.user.error,
				name: request.user.name,
			});
		}
		const proxyRequest: ProxyRequest = {
			kind: request.command === SocksCommand.Connect ? 'tcp' : 'udp',
			target: { host: request.address.host, port: request.address.port },
			config: request.user.config,
			name: request.user.name,
			// Read only when asked (for a log line): reading remoteAddress makes Node keep the peer's
			// address on the socket for its whole life, ~100 bytes per idle connection.
			get from(): string {
				return formatHostPort(socket.remoteAddress, socket.remotePort);
			},
			protocol: 'socks5',
		};
		// The request is complete: the handshake's clock stops. The route bounds its own wait (a
		// provider for 10 s, the far side's connect for 10 s, the session's end).
		this.endHandshake(socket);
		const opened = await this.connections.route.open(proxyRequest);
		if (!opened.ok) {
			socket.end(encodeReply(socksReplyFor(opened.code)));
			return;
		}
		if (proxyRequest.kind === 'udp') {
			if (socket.destroyed) {
				opened.stream.reset(ResetCode.Closed, 'the proxy client closed its control connection');
				return;
			}
			const bind = socket.localAddress ?? this.options.bind;
			const { address } = await UdpAssociation.start(bind, opened.stream, socket, this.options.log);
			socket.write(encodeReply(SocksReply.Succeeded, address));
			return;
		}
		socket.write(encodeReply(SocksReply.Succeeded, UNSPECIFIED));
		const initial = request.leftover.byteLength > 0 ? [request.leftover] : [];
		this.connections.bridge(opened.stream, socket, proxyRequest, initial);
		// The bridge listens for errors now; one listener fewer is one array fewer per socket.
		socket.off('error', ignoreError);
	}
}

function ignoreError(): void {
	// Errors before the bridge (or the HTTP handler) has the socket end in its 'close'.
}
