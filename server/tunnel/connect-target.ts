import { connect, type Socket } from 'node:net';
import { BerthError } from '../../protocol/errors';

/** How long a forwarded connection may take to reach its target. */
export const TARGET_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a TCP connection to a forward's target. `localhost` and other dual-stack names try every
 * address, IPv6 and IPv4 (happy eyeballs), so a service bound to ::1 only or 127.0.0.1 only is
 * reached either way. Rejects with Node's own words (`connect ECONNREFUSED 127.0.0.1:5432`).
 */
export function connectTarget(
	host: string,
	port: number,
	timeoutMs = TARGET_CONNECT_TIMEOUT_MS,
): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ host, port, allowHalfOpen: true, noDelay: true, autoSelectFamily: true });
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new BerthError('BERTH_ERR_TIMEOUT', `connect ETIMEDOUT ${host}:${port}`));
		}, timeoutMs);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.off('error', onError);
			resolve(socket);
		});
		const onError = (error: NodeJS.ErrnoException): void => {
			clearTimeout(timer);
			socket.destroy();
			reject(
				new BerthError('BERTH_ERR_CONNECT', describeConnectError(error, host, port), undefined, {
					cause: error,
				}),
			);
		};
		socket.once('error', onError);
	});
}

/**
 * Node's message for a failed connect, made to name the target: with happy eyeballs Node reports
 * an AggregateError whose message is empty, so its first member's words are used.
 */
export function describeConnectError(error: NodeJS.ErrnoException, host: string, port: number): string {
	if (error instanceof AggregateError && error.errors.length > 0) {
		const messages = (error.errors as Error[]).map((e) => e.message);
		return messages.join('; ');
	}
	if (error.message) {
		return error.message;
	}
	return `connect ${error.code ?? 'failed'} ${host}:${port}`;
}
