import { connect, isIP, type Socket } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import { DisposableStore, toDisposable } from '../../protocol/lifecycle';
import {
	encodeClientGreeting,
	encodeConnectRequest,
	encodeUserPassRequest,
	parseMethodChoice,
	parseReplyCode,
	parseUserPassStatus,
	SocksMethod,
	SocksReply,
	type Parsed,
} from '../../protocol/socks5';
import type { Timers } from '../../protocol/timers';

/** An upstream proxy that traffic leaving this side goes through (`--upstream URL`). */
export interface Upstream {
	readonly kind: 'socks5' | 'http';
	readonly host: string;
	readonly port: number;
	readonly username?: string;
	readonly password?: string;
	/** For messages: the URL without its credentials. */
	readonly display: string;
}

/** An HTTP CONNECT answer's head is read up to this many bytes. */
const MAX_CONNECT_RESPONSE_BYTES = 8 * 1024;
const DEFAULT_PORTS = { socks5: 1080, http: 8080 } as const;

/**
 * Reads `socks5://[user:pass@]host:port` (socks5h means the same: the upstream always resolves
 * names) or `http://[user:pass@]host:port`.
 * @throws BerthError BERTH_ERR_USAGE for anything else.
 */
export function parseUpstreamUrl(text: string): Upstream {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw usage(text);
	}
	const scheme = url.protocol.replace(/:$/, '');
	const kind =
		scheme === 'socks5' || scheme === 'socks5h' ? 'socks5' : scheme === 'http' ? 'http' : undefined;
	if (
		kind === undefined ||
		url.hostname === '' ||
		(url.pathname !== '' && url.pathname !== '/') ||
		url.search
	) {
		throw usage(text);
	}
	const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
	const port = url.port === '' ? DEFAULT_PORTS[kind] : Number(url.port);
	const username = url.username === '' ? undefined : decodeURIComponent(url.username);
	const password = url.password === '' ? undefined : decodeURIComponent(url.password);
	return {
		kind,
		host,
		port,
		...(username !== undefined ? { username } : {}),
		...(password !== undefined ? { password } : {}),
		display: `${kind}://${formatHostPort(host, port)}`,
	};
}

function usage(text: string): BerthError {
	const shown = text.replace(/\/\/[^@/]*@/, '//***@');
	return new BerthError(
		'BERTH_ERR_USAGE',
		`--upstream ${JSON.stringify(shown)}: use socks5://[user:pass@]host:port or http://[user:pass@]host:port`,
	);
}

/** A SOCKS5 reply code as the Node error code the rest of Berth reads (reset-code.ts). */
const SOCKS_ERRNO: Partial<Record<SocksReply, string>> = {
	[SocksReply.ConnectionRefused]: 'ECONNREFUSED',
	[SocksReply.HostUnreachable]: 'EHOSTUNREACH',
	[SocksReply.NetworkUnreachable]: 'ENETUNREACH',
	[SocksReply.TtlExpired]: 'ETIMEDOUT',
};

/**
 * Connects to host:port through the upstream proxy (names are resolved by the upstream), within
 * `timeoutMs` for the whole exchange. Rejects with BERTH_ERR_CONNECT naming the upstream and
 * carrying an errno-like cause, so the SOCKS reply or HTTP status given to Berth's own client
 * says the same thing as the upstream's; BERTH_ERR_POLICY when the upstream refuses by its rules.
 */
export function connectViaUpstream(
	upstream: Upstream,
	host: string,
	port: number,
	options: { readonly timers: Timers; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<Socket> {
	const socket = connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true, noDelay: true });
	socket.pause();
	const target = formatHostPort(host, port);
	return new Promise((resolve, reject) => {
		const store = new DisposableStore();
		const fail = (message: string, errno?: string, policy = false): void => {
			store.dispose();
			socket.destroy();
			const cause = errno ? Object.assign(new Error(message), { code: errno }) : undefined;
			reject(
				new BerthError(
					policy ? 'BERTH_ERR_POLICY' : 'BERTH_ERR_CONNECT',
					`${target} through ${upstream.display}: ${message}`,
					undefined,
					cause ? { cause } : undefined,
				),
			);
		};
		store.add(options.timers.timeout(() => fail('no answer in time', 'ETIMEDOUT'), options.timeoutMs));
		if (options.signal) {
			const onAbort = (): void => fail('given up');
			options.signal.addEventListener('abort', onAbort, { once: true });
			store.add(toDisposable(() => options.signal?.removeEventListener('abort', onAbort)));
		}
		socket.on('error', (error: NodeJS.ErrnoException) =>
			fail(`the upstream proxy: ${error.message}`, error.code),
		);
		socket.once('close', () => fail('the upstream proxy closed the connection', 'ECONNRESET'));
		socket.once('connect', () => {
			const exchange = upstream.kind === 'socks5' ? socks5Exchange : httpConnectExchange;
			exchange(socket, upstream, host, port).then(
				(leftover) => {
					store.dispose();
					socket.removeAllListeners('error');
					socket.removeAllListeners('close');
					socket.removeAllListeners('data');
					socket.on('error', () => undefined); // until the bridge takes it (its listener reports)
					if (leftover.byteLength > 0) {
						socket.unshift(leftover);
					}
					resolve(socket);
				},
				(error: ExchangeError) => fail(error.message, error.errno, error.policy),
			);
		});
	});
}

class ExchangeError extends Error {
	constructor(
		message: string,
		readonly errno?: string,
		readonly policy = false,
	) {
		super(message);
	}
}

/** Reads from the paused socket until `parse` is done; its leftover bytes are kept for the next read. */
class Reader {
	private buffer: Uint8Array = new Uint8Array(0);
	constructor(private readonly socket: Socket) {}

	next<T>(parse: (bytes: Uint8Array) => Parsed<T>, limit: number): Promise<T> {
		return new Promise((resolve, reject) => {
			const attempt = (): boolean => {
				const parsed = parse(this.buffer);
				if (parsed.type === 'done') {
					this.buffer = this.buffer.subarray(parsed.consumed);
					this.socket.off('data', onData);
					this.socket.pause();
					resolve(parsed.value);
					return true;
				}
				if (parsed.type === 'error' || this.buffer.byteLength > limit) {
					this.socket.off('data', onData);
					reject(new ExchangeError(parsed.type === 'error' ? parsed.reason : 'an answer too long'));
					return true;
				}
				return false;
			};
			const onData = (chunk: Buffer): void => {
				this.buffer = Buffer.concat([this.buffer, chunk]);
				attempt();
			};
			if (!attempt()) {
				this.socket.on('data', onData);
				this.socket.resume();
			}
		});
	}

	rest(): Uint8Array {
		return this.buffer;
	}
}

async function socks5Exchange(
	socket: Socket,
	upstream: Upstream,
	host: string,
	port: number,
): Promise<Uint8Array> {
	const reader = new Reader(socket);
	const withCredentials = upstream.username !== undefined;
	socket.write(encodeClientGreeting(withCredentials));
	const method = await reader.next(parseMethodChoice, 2);
	if (method === SocksMethod.UserPass && withCredentials) {
		socket.write(encodeUserPassRequest(upstream.username ?? '', upstream.password ?? ''));
		if (!(await reader.next(parseUserPassStatus, 2))) {
			throw new ExchangeError('the upstream proxy refused its credentials');
		}
	} else if (method !== SocksMethod.None) {
		throw new ExchangeError(
			withCredentials
				? 'the upstream proxy accepts none of our methods'
				: 'the upstream proxy wants credentials: give user:pass@ in --upstream',
		);
	}
	socket.write(encodeConnectRequest({ host, port, isDomain: isIP(host) === 0 }));
	const reply = await reader.next(parseReplyCode, 262);
	if (reply !== SocksReply.Succeeded) {
		throw new ExchangeError(
			`reply 0x${reply.toString(16).padStart(2, '0')} (${SocksReply[reply] ?? 'unknown'})`,
			SOCKS_ERRNO[reply],
			reply === SocksReply.NotAllowed,
		);
	}
	return reader.rest();
}

async function httpConnectExchange(
	socket: Socket,
	upstream: Upstream,
	host: string,
	port: number,
): Promise<Uint8Array> {
	const authority = formatHostPort(host, port);
	const credentials =
		upstream.username !== undefined
			? `Proxy-Authorization: Basic ${Buffer.from(`${upstream.username}:${upstream.password ?? ''}`).toString('base64')}\r\n`
			: '';
	socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials}\r\n`);
	const reader = new Reader(socket);
	const status = await reader.next(parseConnectHead, MAX_CONNECT_RESPONSE_BYTES);
	if (status === 200) {
		return reader.rest();
	}
	const errno = status === 502 ? 'ECONNREFUSED' : status === 504 ? 'ETIMEDOUT' : undefined;
	throw new ExchangeError(`HTTP ${status}`, errno, status === 403);
}

/** The status of an HTTP response head, once the whole head (to the blank line) is in. */
function parseConnectHead(bytes: Uint8Array): Parsed<number> {
	const text = Buffer.from(bytes).toString('latin1');
	const end = text.indexOf('\r\n\r\n');
	if (end < 0) {
		return { type: 'incomplete' };
	}
	const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
	if (!status) {
		return { type: 'error', reason: 'the upstream proxy did not answer in HTTP' };
	}
	return { type: 'done', value: Number(status[1]), consumed: end + 4 };
}
