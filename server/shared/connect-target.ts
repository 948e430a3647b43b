import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import { BerthError } from '../../protocol/errors';
import type { TargetPolicy } from './target-policy';

/** How long a forwarded connection may take to reach its target. */
export const TARGET_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a TCP connection to a forward's target. `localhost` and other dual-stack names try every
 * address, IPv6 and IPv4 (happy eyeballs), so a service bound to ::1 only or to 127.0.0.1 only is
 * reached either way. With a policy, only the addresses it allows are tried. Rejects with Node's
 * own words (`connect ECONNREFUSED 127.0.0.1:5432`) or the policy's.
 */
export function connectTarget(
	host: string,
	port: number,
	options: { policy?: TargetPolicy; timeoutMs?: number } = {},
): Promise<Socket> {
	const policy = options.policy;
	if (policy && !policy.isOpen && isIP(host) !== 0) {
		const refusal = policy.refusal(host, host, port);
		if (refusal) {
			return Promise.reject(new BerthError('BERTH_ERR_CONNECT', refusal));
		}
	}
	const timeoutMs = options.timeoutMs ?? TARGET_CONNECT_TIMEOUT_MS;
	return new Promise((resolve, reject) => {
		const socket = connect({
			host,
			port,
			allowHalfOpen: true,
			noDelay: true,
			autoSelectFamily: true,
			lookup: targetLookup(policy, port),
		});
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

/** Both loopbacks, IPv4 first: what `localhost` means whatever the resolver says. */
const LOCALHOST_ADDRESSES: readonly LookupAddress[] = [
	{ address: '127.0.0.1', family: 4 },
	{ address: '::1', family: 6 },
];

/**
 * The DNS lookup for targets: `localhost` is always both loopbacks (many hosts resolve it to
 * 127.0.0.1 only, and a dev server bound to ::1 would be missed), and a policy drops the
 * addresses it refuses (failing if none is left).
 */
function targetLookup(policy: TargetPolicy | undefined, port: number): LookupFunction {
	return (hostname, options, callback) => {
		const resolve = (
			done: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
		): void => {
			if (hostname.toLowerCase() === 'localhost') {
				done(null, [...LOCALHOST_ADDRESSES]);
			} else {
				dnsLookup(hostname, { ...options, all: true }, done);
			}
		};
		resolve((error, addresses) => {
			if (error) {
				callback(error, '', 4);
				return;
			}
			const refusals: string[] = [];
			const allowed = addresses.filter((a) => {
				const refusal = policy?.refusal(hostname, a.address, port);
				if (refusal) {
					refusals.push(refusal);
				}
				return refusal === undefined;
			});
			if (allowed.length === 0) {
				callback(
					new BerthError('BERTH_ERR_CONNECT', refusals[0] ?? `${hostname} has no allowed address`),
					'',
					4,
				);
				return;
			}
			if (options.all) {
				(callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
			} else {
				callback(null, allowed[0]!.address, allowed[0]!.family);
			}
		});
	};
}

/**
 * Node's message for a failed connect, made to name the target: with happy eyeballs Node reports
 * an AggregateError whose message is empty, so its members' words are used.
 */
export function describeConnectError(error: NodeJS.ErrnoException, host: string, port: number): string {
	if (error instanceof AggregateError && error.errors.length > 0) {
		return (error.errors as Error[]).map((e) => e.message).join('; ');
	}
	if (error.message) {
		return error.message;
	}
	return `connect ${error.code ?? 'failed'} ${host}:${port}`;
}
