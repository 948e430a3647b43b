import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { MessageReader } from '../../protocol/message-reader';
import { encodeControl, encodeMessage, MessageType, type WireMessage } from '../../protocol/wire';
import { within } from './wait';

/**
 * A hand-written client that speaks the agent's wire byte by byte, so tests can send exactly
 * what they mean (including what a real client never would) and read every message back.
 * Raw mode writes the upgrade request itself; WebSocket mode uses `ws` and unwraps its frames.
 */
export class WireClient {
	private readonly reader = new MessageReader({ maxControlBytes: 1 << 30, maxMessageBytes: 1 << 30 });
	private readonly messages: WireMessage[] = [];
	private waiters: (() => void)[] = [];
	private closedFlag = false;
	private rawAfterOk = false;
	/** After `startRaw()`: bytes are no longer parsed as messages but kept here (a Tunnel's pipe). */
	private rawMode = false;
	private readonly rawChunks: Buffer[] = [];
	readonly received: Buffer[] = [];
	/** Every byte this client wrote, in order (to check what a handshake gave away). */
	readonly sent: Buffer[] = [];
	readonly closed: Promise<void>;
	private resolveClosed!: () => void;

	private constructor(
		private readonly send: (bytes: Uint8Array) => void,
		private readonly endFn: () => void,
		readonly socket: Socket,
	) {
		this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
	}

	/** The HTTP response head the agent sent (raw mode). */
	responseHead = '';

	get isClosed(): boolean {
		return this.closedFlag;
	}

	/**
	 * Opens a raw TCP connection and sends an upgrade request (skipWebSocketFrames=true unless the
	 * query says otherwise). Resolves after the response head; rejects with the head if it is not 101.
	 */
	static async raw(
		port: number,
		options: {
			query?: Record<string, string>;
			headers?: Record<string, string>;
			host?: string;
			path?: string;
			/** The source address to connect from (another loopback address is another client). */
			localAddress?: string;
		} = {},
	): Promise<WireClient> {
		const socket = connect({
			port,
			host: options.host ?? '127.0.0.1',
			allowHalfOpen: true,
			...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
		});
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		socket.setNoDelay(true);
		const query = new URLSearchParams({
			reconnectionToken: randomUUID(),
			reconnection: 'false',
			skipWebSocketFrames: 'true',
			...options.query,
		});
		const headers = {
			Host: `127.0.0.1:${port}`,
			Connection: 'Upgrade',
			Upgrade: 'websocket',
			'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
			'Sec-WebSocket-Version': '13',
			...options.headers,
		};
		const head = Object.entries(headers)
			.filter(([, v]) => v !== '')
			.map(([k, v]) => `${k}: ${v}\r\n`)
			.join('');
		socket.write(`GET ${options.path ?? '/'}?${query} HTTP/1.1\r\n${head}\r\n`);
		const client = new WireClient(
			(bytes) => socket.write(bytes),
			() => socket.end(),
			socket,
		);
		let buffered = Buffer.alloc(0);
		await new Promise<void>((resolve, reject) => {
			const onData = (chunk: Buffer): void => {
				buffered = Buffer.concat([buffered, chunk]);
				const end = buffered.indexOf('\r\n\r\n');
				if (end < 0) {
					return;
				}
				socket.off('data', onData);
				client.responseHead = buffered.subarray(0, end).toString('latin1');
				if (!client.responseHead.startsWith('HTTP/1.1 101')) {
					reject(new UpgradeRefused(client.responseHead + buffered.subarray(end).toString('utf8')));
					socket.destroy();
					return;
				}
				client.attach(socket);
				client.feed(buffered.subarray(end + 4));
				resolve();
			};
			socket.on('data', onData);
			socket.once('close', () => reject(new UpgradeRefused(buffered.toString('latin1') || '(closed)')));
		});
		return client;
	}

	/** Opens a WebSocket-framed connection (skipWebSocketFrames=false) with `ws`. */
	static async ws(
		port: number,
		options: { query?: Record<string, string>; headers?: Record<string, string> } = {},
	): Promise<WireClient> {
		const query = new URLSearchParams({
			reconnectionToken: randomUUID(),
			reconnection: 'false',
			skipWebSocketFrames: 'false',
			...options.query,
		});
		const ws = new WebSocket(`ws://127.0.0.1:${port}/?${query}`, {
			perMessageDeflate: false,
			headers: options.headers,
		});
		await new Promise<void>((resolve, reject) => {
			ws.once('open', resolve);
			ws.once('error', reject);
			ws.once('unexpected-response', (_req, res) => reject(new UpgradeRefused(`HTTP/1.1 ${res.statusCode}`)));
		});
		const socket = (ws as unknown as { _socket: Socket })._socket;
		const client = new WireClient(
			(bytes) => ws.send(bytes),
			() => ws.close(),
			socket,
		);
		ws.on('message', (data: Buffer) => client.feed(data));
		ws.on('close', () => client.markClosed());
		ws.on('error', () => client.markClosed());
		return client;
	}

	private attach(socket: Socket): void {
		socket.on('data', (chunk: Buffer) => this.feed(chunk));
		socket.on('end', () => this.markClosed()); // the agent's FIN: it will send nothing more
		socket.on('close', () => this.markClosed());
		socket.on('error', () => this.markClosed());
	}

	private feed(chunk: Buffer): void {
		if (chunk.byteLength === 0) {
			return;
		}
		this.received.push(Buffer.from(chunk));
		if (this.rawMode) {
			this.rawChunks.push(Buffer.from(chunk));
			this.wake();
			return;
		}
		this.reader.feed(chunk);
		for (let m = this.reader.read(); m; m = this.reader.read()) {
			this.messages.push({ ...m, payload: Buffer.from(m.payload) });
			if (this.rawAfterOk && m.type === MessageType.Control && isOk(m.payload)) {
				// The Tunnel's bytes may share a read with its `ok`: they must not be parsed as messages.
				this.startRaw();
				break;
			}
		}
		this.wake();
	}

	/**
	 * For a Tunnel connection: switch to raw bytes (`startRaw`) the moment the `ok` arrives, before
	 * a banner that came in the same read could be taken for a message.
	 */
	expectRawAfterOk(): void {
		this.rawAfterOk = true;
	}

	private markClosed(): void {
		this.closedFlag = true;
		this.resolveClosed();
		this.wake();
	}

	private wake(): void {
		const waiters = this.waiters;
		this.waiters = [];
		for (const w of waiters) {
			w();
		}
	}

	private transmit(bytes: Uint8Array): void {
		this.sent.push(Buffer.from(bytes));
		this.send(bytes);
	}

	write(bytes: Uint8Array): void {
		this.transmit(bytes);
	}

	sendControl(message: object): void {
		this.transmit(encodeControl(message as never));
	}

	sendMessage(type: MessageType, id: number, ack: number, payload?: Uint8Array): void {
		this.transmit(encodeMessage(type, id, ack, payload));
	}

	end(): void {
		this.endFn();
	}

	/** The next message matching `filter` (consumed), waiting up to `timeoutMs`. */
	async next(filter: (m: WireMessage) => boolean = () => true, timeoutMs = 5_000): Promise<WireMessage> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const index = this.messages.findIndex(filter);
			if (index >= 0) {
				return this.messages.splice(index, 1)[0]!;
			}
			if (this.closedFlag) {
				throw new Error('connection closed while waiting for a message');
			}
			const left = deadline - Date.now();
			if (left <= 0) {
				throw new Error(`no matching message within ${timeoutMs} ms`);
			}
			await within(new Promise<void>((resolve) => this.waiters.push(resolve)), left, 'a message').catch(
				() => undefined,
			);
		}
	}

	/** The next Control message, parsed. */
	async nextControl(timeoutMs = 5_000): Promise<Record<string, unknown>> {
		const m = await this.next((x) => x.type === MessageType.Control, timeoutMs);
		return JSON.parse(Buffer.from(m.payload).toString('utf8')) as Record<string, unknown>;
	}

	/**
	 * Stops parsing protocol messages: from now on every byte is kept as is (a Tunnel connection
	 * after its `ok`). Bytes already buffered past the last parsed message come first.
	 */
	startRaw(): void {
		this.rawMode = true;
		for (const chunk of this.reader.drain()) {
			this.rawChunks.push(Buffer.from(chunk));
		}
	}

	/** Bytes received since `startRaw()`. */
	get rawBytes(): Buffer {
		return Buffer.concat(this.rawChunks);
	}

	/** Waits until at least `bytes` raw bytes arrived (rejects if the connection closes first). */
	async readRaw(bytes: number, timeoutMs = 5_000): Promise<Buffer> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const total = this.rawChunks.reduce((n, c) => n + c.byteLength, 0);
			if (total >= bytes) {
				return this.rawBytes;
			}
			if (this.closedFlag) {
				throw new Error(`connection closed after ${total} of ${bytes} raw bytes`);
			}
			const left = deadline - Date.now();
			if (left <= 0) {
				throw new Error(`only ${total} of ${bytes} raw bytes within ${timeoutMs} ms`);
			}
			await within(new Promise<void>((resolve) => this.waiters.push(resolve)), left, 'raw bytes').catch(
				() => undefined,
			);
		}
	}

	/** Resolves when the agent closed the connection (rejects after `timeoutMs`). */
	waitClosed(timeoutMs = 5_000): Promise<void> {
		return within(this.closed, timeoutMs, 'the agent to close the connection');
	}

	/**
	 * A full, correct Berth handshake. Returns the agent's last reply (`ok` or `error`) and its
	 * sign message. `signature: "bad"` sends a wrong one; `"echo"` echoes the challenge (VS Code without vsda).
	 */
	async handshake(options: {
		token: string | undefined;
		connectionType: number;
		args?: unknown;
		commit?: string;
		signature?: 'good' | 'bad' | 'echo';
		/** Send this as `auth` instead of the token (e.g. TOKEN_PROOF_AUTH: prove it, do not send it). */
		auth?: string;
	}): Promise<{ sign: Record<string, unknown>; reply: Record<string, unknown>; challenge: string }> {
		const challenge = randomUUID();
		this.sendControl({
			type: 'auth',
			auth: options.auth ?? options.token ?? '00000000000000000000',
			data: challenge,
		});
		const sign = await this.nextControl();
		if (sign['type'] !== 'sign') {
			return { sign, reply: sign, challenge };
		}
		const data = String(sign['data']);
		const signedData =
			options.signature === 'bad'
				? hmac('wrong-token', data)
				: options.signature === 'echo' || options.token === undefined
					? data
					: hmac(options.token, data);
		this.sendControl({
			type: 'connectionType',
			desiredConnectionType: options.connectionType,
			signedData,
			...(options.commit !== undefined ? { commit: options.commit } : {}),
			...(options.args !== undefined ? { args: options.args } : {}),
		});
		const reply = await this.nextControl();
		return { sign, reply, challenge };
	}

	destroy(): void {
		this.socket.destroy();
	}
}

/** Berth's signature: base64url(HMAC-SHA256(token, data)). Written out again here on purpose: tests check the agent against the spec, not against its own code. */
export function hmac(token: string, data: string): string {
	return createHmac('sha256', token).update(data).digest('base64url');
}

export class UpgradeRefused extends Error {
	constructor(readonly response: string) {
		super(`upgrade refused: ${response.split('\r\n')[0]}`);
	}
}

export { MessageType };

function isOk(payload: Uint8Array): boolean {
	try {
		return (JSON.parse(Buffer.from(payload).toString('utf8')) as { type?: unknown }).type === 'ok';
	} catch {
		return false;
	}
}
