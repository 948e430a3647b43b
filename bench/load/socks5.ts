/**
 * The client half of a SOCKS5 CONNECT (RFC 1928), no authentication, for the load client: the
 * same code for every proxy path, so connection-setup figures compare the proxies, not clients.
 * It goes step by step as curl does: greeting, wait for the method; request, wait for the reply
 * (a proxy replies once its far side has connected to the target). Nothing is sent early.
 */
import type { Socket } from 'node:net';

const VERSION = 5;
const NO_AUTH = 0;
const CMD_CONNECT = 1;
const ATYP_IPV4 = 1;
const ATYP_DOMAIN = 3;
const ATYP_IPV6 = 4;
const REPLY_SUCCEEDED = 0;
const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const PORT_BYTES = 2;

/** Reads exactly `n` bytes from a socket, keeping what arrives beyond them for the next read. */
class ExactReader {
	private buffered: Buffer = Buffer.alloc(0);
	private want = 0;
	private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
	private readonly onData = (chunk: Buffer): void => {
		this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
		this.deliver();
	};
	private readonly onEnd = (): void => this.fail(new Error('the proxy closed the connection'));
	private readonly onError = (error: Error): void => this.fail(error);

	constructor(private readonly socket: Socket) {
		socket.on('data', this.onData);
		socket.once('end', this.onEnd);
		socket.once('close', this.onEnd);
		socket.once('error', this.onError);
	}

	read(n: number): Promise<Buffer> {
		return new Promise((resolve, reject) => {
			this.want = n;
			this.waiter = { resolve, reject };
			this.deliver();
		});
	}

	/** Stops listening; bytes already read past the handshake go back to the socket. */
	release(): void {
		this.socket.off('data', this.onData);
		this.socket.off('end', this.onEnd);
		this.socket.off('close', this.onEnd);
		this.socket.off('error', this.onError);
		if (this.buffered.length > 0) {
			this.socket.unshift(this.buffered);
		}
	}

	private deliver(): void {
		if (this.waiter === undefined || this.buffered.length < this.want) {
			return;
		}
		const { resolve } = this.waiter;
		this.waiter = undefined;
		const out = this.buffered.subarray(0, this.want);
		this.buffered = this.buffered.subarray(this.want);
		resolve(out);
	}

	private fail(error: Error): void {
		const waiter = this.waiter;
		this.waiter = undefined;
		waiter?.reject(error);
	}
}

/** Asks the SOCKS5 proxy `socket` is connected to for 127.0.0.1:`targetPort`; resolves once granted. */
export async function socksConnect(socket: Socket, targetPort: number): Promise<void> {
	const reader = new ExactReader(socket);
	try {
		socket.write(Buffer.from([VERSION, 1, NO_AUTH]));
		const method = await reader.read(2);
		if (method[0] !== VERSION || method[1] !== NO_AUTH) {
			throw new Error(`SOCKS5: the proxy chose method ${method[1]} (expected 0, no authentication)`);
		}
		const request = Buffer.from([VERSION, CMD_CONNECT, 0, ATYP_IPV4, 127, 0, 0, 1, 0, 0]);
		request.writeUInt16BE(targetPort, request.length - PORT_BYTES);
		socket.write(request);
		const head = await reader.read(4);
		if (head[0] !== VERSION || head[1] !== REPLY_SUCCEEDED) {
			throw new Error(`SOCKS5: the proxy refused CONNECT to 127.0.0.1:${targetPort} (reply ${head[1]})`);
		}
		await reader.read((await boundAddressBytes(head[3]!, reader)) + PORT_BYTES);
	} finally {
		reader.release();
	}
}

/** How many address bytes follow a reply's header (a domain's length byte is read here). */
async function boundAddressBytes(atyp: number, reader: ExactReader): Promise<number> {
	switch (atyp) {
		case ATYP_IPV4:
			return IPV4_BYTES;
		case ATYP_IPV6:
			return IPV6_BYTES;
		case ATYP_DOMAIN:
			return (await reader.read(1))[0]!;
		default:
			throw new Error(`SOCKS5: reply with unknown address type ${atyp}`);
	}
}
