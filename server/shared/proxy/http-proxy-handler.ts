import { ResetCode } from '../../../protocol/mux-frames';
import {
	createServer,
	request as httpRequest,
	type IncomingMessage,
	type Server,
	type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { errorMessage } from '../../../protocol/errors';
import {
	CONFIG_HEADER,
	parseAbsoluteTarget,
	parseAuthority,
	parseBasicCredentials,
	PROXY_REALM,
} from '../../../protocol/http-proxy';
import type { IDisposable } from '../../../protocol/lifecycle';
import { mergeConfig, parseConfigHeader, type ProxyUser } from '../../../protocol/proxy-config';
import type { Logger } from '../log';
import { checkProxyUser } from './proxy-credentials';
import { httpStatusFor } from './proxy-replies';
import type { ProxyRequest } from './proxy-route';
import type { ProxyConnections } from './proxy-connections';
import { StreamDuplex } from './stream-duplex';

/** The longest request head accepted (Node answers 431 past it). */
const MAX_HEADER_BYTES = 16 * 1024;
/** Headers that describe one hop, never passed on (RFC 9110 §7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'proxy-authorization',
	'proxy-authenticate',
	'te',
	'trailer',
	'transfer-encoding',
	'upgrade',
	CONFIG_HEADER,
]);

/**
 * The HTTP half of Berth's proxy port, on Node's own HTTP parser (keep-alive, bounds, bodies):
 * `CONNECT host:port` becomes a stream to the target (200 once it answered, 502 with a one-line
 * reason when it did not, 403 when policy forbids); an absolute-form request
 * (`GET http://host/path`) is sent to its origin over a fresh stream and answered, and the
 * client's connection stays open for its next request.
 */
export class HttpProxyHandler implements IDisposable {
	private readonly server: Server;

	constructor(
		private readonly connections: ProxyConnections,
		private readonly log: Logger,
		handshakeTimeoutMs: number,
	) {
		this.server = createServer({
			maxHeaderSize: MAX_HEADER_BYTES,
			headersTimeout: handshakeTimeoutMs,
			requestTimeout: 0, // a request's body may take as long as it takes; the head may not
			keepAliveTimeout: 60_000,
		});
		this.server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
			this.onConnect(req, socket, head).catch((error: unknown) => this.fail(socket, error));
		});
		this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
			this.onRequest(req, res).catch((error: unknown) => this.fail(res.socket, error));
		});
		this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
			const status =
				error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
			if (socket.writable) {
				socket.end(
					`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
				);
			}
			socket.destroy();
		});
	}

	/** Takes over a proxy connection whose first bytes (`initial`) were already read. */
	accept(socket: Socket, initial: Buffer): void {
		socket.unshift(initial);
		this.server.emit('connection', socket);
		socket.resume();
	}

	dispose(): void {
		this.server.close();
	}

	private async onConnect(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
		const target = parseAuthority(req.url ?? '');
		if (!target) {
			endWith(socket, 400, `${req.url ?? ''} is not host:port`);
			return;
		}
		const user = this.authenticate(req);
		if (!user) {
			endWith(socket, 407, 'proxy credentials required', {
				'Proxy-Authenticate': `Basic realm="${PROXY_REALM}"`,
			});
			return;
		}
		const request = this.proxyRequest(req, target, user, socket);
		const opened = await this.connections.route.open(request);
		if (!opened.ok) {
			endWith(socket, httpStatusFor(opened.code), opened.reason);
			return;
		}
		socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
		this.connections.bridge(opened.stream, socket, request, head.byteLength > 0 ? [head] : []);
	}

	private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const target = parseAbsoluteTarget(req.url ?? '');
		if (!target) {
			respond(res, 400, 'this is a proxy: send absolute-form requests (GET http://host/path) or CONNECT');
			return;
		}
		const user = this.authenticate(req);
		if (!user) {
			respond(res, 407, 'proxy credentials required', {
				'Proxy-Authenticate': `Basic realm="${PROXY_REALM}"`,
			});
			return;
		}
		const request = this.proxyRequest(req, target, user, req.socket);
		const opened = await this.connections.route.open(request);
		if (!opened.ok) {
			respond(res, httpStatusFor(opened.code), opened.reason);
			return;
		}
		if (req.socket.destroyed) {
			opened.stream.reset(ResetCode.Closed, 'the proxy client closed its connection');
			return;
		}
		const duplex = new StreamDuplex(opened.stream);
		const upstream = httpRequest({
			method: req.method,
			path: target.path,
			headers: {
				...passOn(req.headers),
				host: req.headers.host ?? hostHeader(target.host, target.port),
				connection: 'close',
			},
			createConnection: () => duplex,
		});
		upstream.on('response', (answer) => {
			res.writeHead(answer.statusCode ?? 502, answer.statusMessage, passOn(answer.headers));
			answer.pipe(res);
		});
		upstream.on('error', (error) => {
			if (!res.headersSent) {
				respond(res, 502, `the origin failed: ${error.message}`);
			} else {
				res.destroy();
			}
		});
		req.pipe(upstream);
	}

	/** The user the request names, or undefined when credentials are required and wrong or absent. */
	private authenticate(req: IncomingMessage): ProxyUser | undefined {
		const header = req.headers['proxy-authorization'];
		const basic = typeof header === 'string' ? parseBasicCredentials(header) : undefined;
		if (!basic) {
			return this.connections.credentials.password === undefined ? { name: '', config: {} } : undefined;
		}
		return checkProxyUser(this.connections.credentials, basic.username, basic.password);
	}

	private proxyRequest(
		req: IncomingMessage,
		target: { host: string; port: number },
		user: ProxyUser,
		socket: Socket,
	): ProxyRequest {
		const header = req.headers[CONFIG_HEADER];
		const fromHeader = typeof header === 'string' ? parseConfigHeader(header) : undefined;
		for (const error of [user.error, fromHeader?.error]) {
			if (error !== undefined) {
				this.log.debug('proxy config not applied', { error, name: user.name });
			}
		}
		return {
			kind: 'tcp',
			target,
			config: mergeConfig(user.config, fromHeader?.error === undefined ? fromHeader?.config : undefined),
			name: user.name,
			from: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
			protocol: 'http',
		};
	}

	private fail(socket: Socket | null, error: unknown): void {
		this.log.warn('proxy request failed', { error: errorMessage(error) });
		socket?.destroy();
	}
}

function passOn(headers: IncomingMessage['headers']): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) {
			out[name] = value;
		}
	}
	return out;
}

function hostHeader(host: string, port: number): string {
	const name = host.includes(':') ? `[${host}]` : host;
	return port === 80 ? name : `${name}:${port}`;
}

/** Answers a CONNECT (on its raw socket) with a status and a one-line reason, then closes. */
function endWith(socket: Socket, status: number, reason: string, headers: Record<string, string> = {}): void {
	const body = reason.replace(/[\r\n]+/g, ' ') + '\n';
	const lines = [
		`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
		'Content-Type: text/plain; charset=utf-8',
		`Content-Length: ${Buffer.byteLength(body)}`,
		'Connection: close',
		...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
	];
	socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

/** Answers an absolute-form request; the client's connection stays open (keep-alive). */
function respond(
	res: ServerResponse,
	status: number,
	reason: string,
	headers: Record<string, string> = {},
): void {
	const body = reason.replace(/[\r\n]+/g, ' ') + '\n';
	res.writeHead(status, {
		'Content-Type': 'text/plain; charset=utf-8',
		'Content-Length': Buffer.byteLength(body),
		...headers,
	});
	res.end(body);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
	400: 'Bad Request',
	403: 'Forbidden',
	407: 'Proxy Authentication Required',
	502: 'Bad Gateway',
	504: 'Gateway Timeout',
};
