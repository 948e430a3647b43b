import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { DEFAULT_MAX_MESSAGE_BYTES, HEADER_BYTES } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import type { Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';
import { TcpTransport } from '../shared/transport/tcp-transport';
import { WsTransport } from '../shared/transport/ws-transport';
import { websocketAccept } from '../shared/websocket-accept';
import { hostHeader, type AgentAddress } from './agent-url';
import { tlsFailure } from './tls-failure';
import { tlsConnectOptions, type TlsTrust } from './tls-trust';

/**
 * How the bytes travel after the upgrade: raw TCP (`skipWebSocketFrames=true`, fastest),
 * WebSocket frames (for proxies that pass only WebSocket), or `auto`: raw TCP, falling back to
 * WebSocket frames when the path mangles raw bytes.
 */
export type TransportMode = 'auto' | 'tcp' | 'websocket';

export interface OpenTransportOptions {
	readonly address: AgentAddress;
	readonly mode: 'tcp' | 'websocket';
	readonly reconnectionToken: string;
	readonly reconnection: boolean;
	/** The upgrade's answer must arrive within this time. */
	readonly timeoutMs: number;
	/** The whole connect's budget (--connect-timeout), which messages name: `timeoutMs` is what is left of it. */
	readonly budgetMs?: number;
	readonly timers: Timers;
	/** How a `wss://` agent's certificate is checked (default: Node's CA store, and the URL's name). */
	readonly tls?: TlsTrust;
}

export interface OpenedTransport {
	readonly transport: Transport;
	/** Bytes that arrived right behind the 101 response. */
	readonly initial: Uint8Array[];
}

/** Longest HTTP response head accepted from an agent. */
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
/**
 * Opens a connection to an agent and performs the HTTP upgrade. In `tcp` mode the request is
 * written by hand, as VS Code's desktop client does, and the socket carries raw protocol bytes
 * after the 101; in `websocket` mode `ws` does the upgrade and frames every write.
 * @throws BerthError BERTH_ERR_CONNECT (unreachable, refused upgrade), BERTH_ERR_TIMEOUT,
 *   BERTH_ERR_TLS_UNTRUSTED (the agent's certificate failed verification: permanent).
 */
export function openTransport(options: OpenTransportOptions): Promise<OpenedTransport> {
	const query = new URLSearchParams({
		reconnectionToken: options.reconnectionToken,
		reconnection: String(options.reconnection),
		skipWebSocketFrames: String(options.mode === 'tcp'),
	});
	return options.mode === 'tcp' ? openRaw(options, query) : openWebSocket(options, query);
}

function openRaw(options: OpenTransportOptions, query: URLSearchParams): Promise<OpenedTransport> {
	const { address } = options;
	return new Promise((resolve, reject) => {
		const socket: Socket = address.secure
			? tlsConnect({
					host: address.host,
					port: address.port,
					...tlsConnectOptions(address.host, options.tls),
				})
			: netConnect({ host: address.host, port: address.port, allowHalfOpen: true, noDelay: true });
		const key = randomBytes(16).toString('base64');
		let head = Buffer.alloc(0);
		const fail = (error: BerthError): void => {
			cleanup();
			socket.destroy();
			reject(error);
		};
		const timer = options.timers.timeout(() => fail(upgradeTimeout(options)), options.timeoutMs);
		const onConnect = (): void => {
			socket.write(
				`GET ${address.path}?${query.toString()} HTTP/1.1\r\n` +
					`Host: ${hostHeader(address)}\r\n` +
					'Connection: Upgrade\r\n' +
					'Upgrade: websocket\r\n' +
					`Sec-WebSocket-Key: ${key}\r\n` +
					'Sec-WebSocket-Version: 13\r\n' +
					'\r\n',
			);
		};
		const onData = (chunk: Buffer): void => {
			head = Buffer.concat([head, chunk]);
			const end = head.indexOf('\r\n\r\n');
			if (end < 0) {
				if (head.byteLength > MAX_RESPONSE_HEAD_BYTES) {
					fail(
						new BerthError('BERTH_ERR_CONNECT', `${address.display} answered with an oversized HTTP head`),
					);
				}
				return;
			}
			const lines = head.subarray(0, end).toString('latin1').split('\r\n');
			const status = lines[0] ?? '';
			if (!/^HTTP\/1\.[01] 101 /.test(status)) {
				const body =
					head
						.subarray(end + 4)
						.toString('utf8')
						.trim()
						.split('\n')[0] ?? '';
				fail(
					new BerthError(
						'BERTH_ERR_CONNECT',
						`${address.display} refused the upgrade: ${status}${body ? ` (${body})` : ''}`,
					),
				);
				return;
			}
			const accept = lines.find((l) => l.toLowerCase().startsWith('sec-websocket-accept:'));
			const expected = websocketAccept(key);
			if (accept !== undefined && accept.slice(accept.indexOf(':') + 1).trim() !== expected) {
				fail(
					new BerthError(
						'BERTH_ERR_CONNECT',
						`${address.display} answered with a wrong Sec-WebSocket-Accept`,
					),
				);
				return;
			}
			cleanup();
			const rest = head.subarray(end + 4);
			resolve({ transport: new TcpTransport(socket), initial: rest.byteLength > 0 ? [rest] : [] });
		};
		const onError = (error: Error): void => fail(connectFailure(error, address, options.reconnection));
		const onClose = (): void =>
			fail(
				new BerthError(
					'BERTH_ERR_CONNECT',
					`${address.display} closed the connection during the upgrade${plainHint(address)}`,
				),
			);
		const cleanup = (): void => {
			timer.dispose();
			socket.off(address.secure ? 'secureConnect' : 'connect', onConnect);
			socket.off('data', onData);
			socket.off('error', onError);
			socket.off('close', onClose);
			socket.off('end', onClose);
		};
		socket.once(address.secure ? 'secureConnect' : 'connect', onConnect);
		socket.on('data', onData);
		socket.on('error', onError);
		socket.on('close', onClose);
		// Half-open sockets see the agent's end before any close: an agent that hangs up mid-upgrade.
		socket.on('end', onClose);
	});
}

function openWebSocket(options: OpenTransportOptions, query: URLSearchParams): Promise<OpenedTransport> {
	const { address } = options;
	const url = `${address.secure ? 'wss' : 'ws'}://${hostHeader(address)}${address.path}?${query.toString()}`;
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, {
			perMessageDeflate: false,
			maxPayload: DEFAULT_MAX_MESSAGE_BYTES + HEADER_BYTES,
			...(address.secure ? tlsConnectOptions(address.host, options.tls) : {}),
		});
		// ws's own handshakeTimeout would run on a global timer and word its error differently.
		const timer = options.timers.timeout(() => fail(upgradeTimeout(options)), options.timeoutMs);
		const fail = (error: BerthError): void => {
			timer.dispose();
			ws.removeAllListeners();
			ws.on('error', () => undefined);
			ws.terminate();
			reject(error);
		};
		ws.once('open', () => {
			timer.dispose();
			ws.removeAllListeners();
			resolve({ transport: new WsTransport(ws), initial: [] });
		});
		ws.once('unexpected-response', (_req, res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk.slice(0, 512)));
			res.on('end', () =>
				fail(
					new BerthError(
						'BERTH_ERR_CONNECT',
						`${address.display} refused the upgrade: ${res.statusCode} ${res.statusMessage ?? ''}` +
							(body.trim() ? ` (${body.trim().split('\n')[0]})` : ''),
					),
				),
			);
		});
		ws.once('error', (error) => fail(connectFailure(error, address, options.reconnection)));
	});
}

/**
 * The error for a socket that failed: a TLS failure in words, else what Node said. A
 * reconnection's reset gets no TLS hint: that address took this client's plain connection before.
 */
function connectFailure(error: Error, address: AgentAddress, reconnection: boolean): BerthError {
	return (
		tlsFailure(error, address.display) ??
		new BerthError(
			'BERTH_ERR_CONNECT',
			`cannot reach ${address.display}: ${error.message}` +
				((error as NodeJS.ErrnoException).code === 'ECONNRESET' && !reconnection ? plainHint(address) : ''),
			undefined,
			{ cause: error },
		)
	);
}

/**
 * A hint for a plain connection cut during the upgrade: an agent that serves TLS drops a client
 * that speaks plain HTTP to it, and a reset or a close is all the client sees.
 */
function plainHint(address: AgentAddress): string {
	return address.secure ? '' : ' (if the agent serves TLS, use wss://)';
}

function upgradeTimeout(options: OpenTransportOptions): BerthError {
	return new BerthError(
		'BERTH_ERR_TIMEOUT',
		`no answer from ${options.address.display} within ${options.budgetMs ?? options.timeoutMs} ms`,
	);
}
