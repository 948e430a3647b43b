import type { Socket } from 'node:net';
import type { ProxyUser } from '../../../protocol/proxy-config';
import {
	encodeMethodChoice,
	encodeReply,
	encodeUserPassReply,
	MAX_SOCKS5_HANDSHAKE_BYTES,
	parseGreeting,
	parseRequest,
	parseUserPass,
	SocksMethod,
	SocksReply,
	type Parsed,
	type SocksAddress,
	type SocksCommand,
} from '../../../protocol/socks5';
import { checkProxyUser, requiresCredentials, type ProxyCredentials } from './proxy-credentials';

/** A SOCKS5 client's request, once its greeting (and credentials) were accepted. */
export interface Socks5Request {
	readonly command: SocksCommand;
	readonly address: SocksAddress;
	readonly user: ProxyUser;
	/** Bytes the client sent after its request (pipelined data): they go to the target first. */
	readonly leftover: Uint8Array;
}

/** Why a handshake ended without a request (the client has been answered where SOCKS5 allows). */
export type Socks5Failure = { readonly failed: string };

type Stage = 'greeting' | 'auth' | 'request';

/**
 * Runs SOCKS5's greeting, RFC 1929's username/password when used, and reads the request, on a
 * socket whose first bytes (`initial`) were already read. The method chosen: username/password
 * whenever the client offers it (so its labels reach Berth, even without a configured password),
 * else "no authentication" if no password is required, else none acceptable (0xFF). A refusal is
 * answered in SOCKS5's words before the promise resolves; the caller closes the socket.
 */
export function runSocks5Handshake(
	socket: Socket,
	initial: Uint8Array,
	credentials: ProxyCredentials,
): Promise<Socks5Request | Socks5Failure> {
	return new Promise((resolve) => {
		let buffer: Buffer = Buffer.from(initial);
		let stage: Stage = 'greeting';
		let user: ProxyUser = { name: '', config: {} };
		let done = false;
		const finish = (result: Socks5Request | Socks5Failure): void => {
			done = true;
			socket.off('data', onData);
			socket.pause();
			resolve(result);
		};
		/** Consumes one message of the current stage; false when more bytes are needed. */
		const step = (): boolean => {
			switch (stage) {
				case 'greeting':
					return take(parseGreeting(buffer), (methods) => {
						if (methods.includes(SocksMethod.UserPass)) {
							socket.write(encodeMethodChoice(SocksMethod.UserPass));
							stage = 'auth';
						} else if (!requiresCredentials(credentials) && methods.includes(SocksMethod.None)) {
							socket.write(encodeMethodChoice(SocksMethod.None));
							stage = 'request';
						} else {
							socket.write(encodeMethodChoice(SocksMethod.NoAcceptable));
							finish({ failed: 'the client offers no method this proxy accepts (a password is required)' });
						}
					});
				case 'auth':
					return take(parseUserPass(buffer), ({ username, password }) => {
						const accepted = checkProxyUser(credentials, username, password);
						socket.write(encodeUserPassReply(accepted !== undefined));
						if (accepted === undefined) {
							finish({ failed: 'wrong proxy username or password' });
							return;
						}
						user = accepted;
						stage = 'request';
					});
				case 'request':
					return take(parseRequest(buffer), ({ command, address }) =>
						finish({ command, address, user, leftover: buffer }),
					);
			}
		};
		/** Applies a parse result: on done, drops the bytes used and calls `next`. */
		const take = <T>(parsed: Parsed<T>, next: (value: T) => void): boolean => {
			switch (parsed.type) {
				case 'incomplete':
					return false;
				case 'error':
					if (parsed.reply !== undefined) {
						socket.write(encodeReply(parsed.reply));
					}
					finish({ failed: parsed.reason });
					return false;
				case 'done':
					buffer = buffer.subarray(parsed.consumed);
					next(parsed.value);
					return true;
			}
		};
		const run = (): void => {
			while (!done && step()) {
				// each step consumed a message; try the next with what is left
			}
			if (!done && buffer.length > MAX_SOCKS5_HANDSHAKE_BYTES) {
				socket.write(encodeReply(SocksReply.GeneralFailure));
				finish({ failed: `a handshake longer than ${MAX_SOCKS5_HANDSHAKE_BYTES} bytes` });
			}
		};
		const onData = (chunk: Buffer): void => {
			buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
			run();
		};
		socket.on('data', onData);
		run();
		if (!done) {
			socket.resume();
		}
	});
}
