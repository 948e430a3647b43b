import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Transport } from '../../protocol/transport';
import type { UpgradeQuery } from '../handshake/server-handshake';
import { TcpTransport } from '../shared/transport/tcp-transport';
import { WsTransport } from '../shared/transport/ws-transport';
import { websocketAccept } from '../shared/websocket-accept';
import { abortUpgrade } from './abort';
import { isAllowedHost, isAllowedOrigin } from './host-check';

/** RFC 6455's GUID for Sec-WebSocket-Accept. */
/** Longest reconnection token accepted (VS Code sends UUIDs). */
const MAX_RECONNECTION_TOKEN_CHARS = 256;

export interface UpgradedConnection {
	readonly transport: Transport;
	/** Bytes that came with the upgrade request, after its headers. */
	readonly initial: Uint8Array[];
	readonly query: UpgradeQuery;
	/**
	 * Raises the longest message the transport itself accepts, once the client is authenticated:
	 * `ws` holds every frame whole, so its bound is the pre-authentication one until then. Raw TCP
	 * has no bound of its own (the message readers bound it).
	 */
	readonly setMaxMessageBytes: (bytes: number) => void;
}

export type UpgradeResult = UpgradedConnection | { readonly refused: string };

/**
 * Turns an HTTP upgrade into a Transport, as VS Code's server does (any path; query parameters
 * `reconnectionToken`, `reconnection`, `skipWebSocketFrames`), after two checks it lacks: the
 * Origin must be the agent's own and, on loopback, the Host a loopback name. With
 * `skipWebSocketFrames=true` the agent answers 101 itself and speaks raw bytes on the socket;
 * otherwise `ws` takes the upgrade and every binary message carries protocol bytes.
 */
export function upgradeConnection(
	req: IncomingMessage,
	socket: Duplex,
	head: Buffer,
	listenHost: string,
	wss: WebSocketServer,
): Promise<UpgradeResult> {
	const refuse = (status: number, message: string): Promise<UpgradeResult> => {
		abortUpgrade(socket, status, message);
		return Promise.resolve({ refused: `${status} ${message}` });
	};
	if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
		return refuse(400, 'Bad Request: expected "Upgrade: websocket".');
	}
	if (!isAllowedHost(req.headers.host, listenHost)) {
		return refuse(403, 'Forbidden: this agent listens on loopback and answers only loopback host names.');
	}
	if (!isAllowedOrigin(req.headers.origin, req.headers.host)) {
		return refuse(403, 'Forbidden: cross-origin WebSocket connections are refused.');
	}
	const url = new URL(req.url ?? '/', 'http://localhost');
	const reconnectionToken = url.searchParams.get('reconnectionToken') ?? randomUUID();
	if (reconnectionToken.length === 0 || reconnectionToken.length > MAX_RECONNECTION_TOKEN_CHARS) {
		return refuse(400, 'Bad Request: reconnectionToken must be 1 to 256 characters.');
	}
	const query: UpgradeQuery = {
		reconnectionToken,
		reconnection: url.searchParams.get('reconnection') === 'true',
		skipWebSocketFrames: url.searchParams.get('skipWebSocketFrames') === 'true',
	};

	if (query.skipWebSocketFrames) {
		const key = req.headers['sec-websocket-key'];
		const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
		if (typeof key === 'string') {
			lines.push(`Sec-WebSocket-Accept: ${websocketAccept(key)}`);
		}
		socket.write(lines.join('\r\n') + '\r\n\r\n');
		const transport = new TcpTransport(socket as Socket);
		return Promise.resolve({
			transport,
			initial: head.byteLength > 0 ? [head] : [],
			query,
			setMaxMessageBytes: () => undefined,
		});
	}

	return new Promise((resolve) => {
		// ws answers 400 itself when the key or version is missing; the socket then closes.
		const onClose = (): void => resolve({ refused: 'WebSocket upgrade failed' });
		socket.once('close', onClose);
		wss.handleUpgrade(req, socket, head, (ws) => {
			socket.off('close', onClose);
			const transport = new WsTransport(ws);
			resolve({
				transport,
				initial: [],
				query,
				setMaxMessageBytes: (bytes) => transport.setMaxPayload(bytes),
			});
		});
	});
}
