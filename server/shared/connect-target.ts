import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { TargetPolicy } from './target-policy';
import { connectViaUpstream, type Upstream } from './upstream';

/** How long a forwarded connection may take to reach its target. */
export const TARGET_CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectTargetOptions {
	/** The agent's --allow/--deny rules; none on the client, which connects where its user says. */
	readonly policy?: TargetPolicy;
	readonly timeoutMs?: number;
	/** The clock for the deadline; Node's when not given. */
	readonly timers: Timers;
	/**
	 * Aborting it gives up the connect at once (the socket is destroyed, the promise rejects with
	 * BERTH_ERR_CLOSED): a session that ends mid-connect does not wait for the deadline.
	 */
	readonly signal?: AbortSignal;
	/** How names are resolved; the system's resolver when not given. */
	readonly resolver?: TargetResolver;
	/**
	 * An upstream proxy every target is reached through (`--upstream`): it resolves names, so the
	 * policy sees names as asked and addresses only when the target is one.
	 */
	readonly upstream?: Upstream;
}

/**
 * Opens a TCP connection to a forward's target. `localhost` and other dual-stack names try every
 * address, IPv6 and IPv4 (happy eyeballs), so a service bound to ::1 only or to 127.0.0.1 only is
 * reached either way. With a policy, only the addresses it allows are tried. Rejects with Node's
 * own words (`connect ECONNREFUSED 127.0.0.1:5432`) or the policy's.
 */
export function connectTarget(host: string, port: number, options: ConnectTargetOptions): Promise<Socket> {
	const { policy, signal } = options;
	if (signal?.aborted) {
		return Promise.reject(cancelled(host, port));
	}
	if (policy && !policy.isOpen && (isIP(host) !== 0 || options.upstream)) {
		const refusal = policy.refusal(host, host, port);
		if (refusal) {
			return Promise.reject(new BerthError('BERTH_ERR_POLICY', refusal));
		}
	}
	if (options.upstream) {
		return connectViaUpstream(options.upstream, host, port, {
			timers: options.timers,
			timeoutMs: options.timeoutMs ?? TARGET_CONNECT_TIMEOUT_MS,
			...(signal ? { signal } : {}),
		});
	}
	const socket = connect({
		host,
		port,
		allowHalfOpen: true,
		noDelay: true,
		autoSelectFamily: true,
		lookup: targetLookup(policy, port, options.resolver ?? systemResolver),
	});
	return settle(socket, host, port, options);
}

/** Resolves once `socket` connects; rejects (and destroys it) on error, deadline or abort. */
function settle(socket: Socket, host: string, port: number, options: ConnectTargetOptions): Promise<Socket> {
	return new Promise((resolve, reject) => {
		new PendingConnect(socket, host, port, resolve, reject).watch(options);
	});
}

/**
 * One connect under way: its deadline, its abort and the socket's first answer in one object.
 * Every forwarded connection makes one, on the agent's way from an Open to the target, so it
 * holds no closure per event (the socket's listeners are shared functions that find it through
 * the socket, the signal calls its handleEvent) and no store of disposables: a few hundred bytes
 * and a few µs less per connection than a closure per listener.
 */
class PendingConnect {
	private deadline: IDisposable | undefined;
	private signal: AbortSignal | undefined;
	private settled = false;

	constructor(
		private readonly socket: Socket,
		private readonly host: string,
		private readonly port: number,
		private readonly resolve: (socket: Socket) => void,
		private readonly reject: (error: BerthError) => void,
	) {}

	watch(options: ConnectTargetOptions): void {
		const socket = this.socket as PendingSocket;
		socket[kPending] = this;
		// Kept after a timeout or abort: an error the destroyed socket still reports goes nowhere.
		socket.on('error', onPendingError);
		socket.on('connect', onPendingConnect);
		this.deadline = options.timers.timeout(
			() =>
				this.fail(
					new BerthError('BERTH_ERR_TIMEOUT', `connect ETIMEDOUT ${formatHostPort(this.host, this.port)}`),
				),
			options.timeoutMs ?? TARGET_CONNECT_TIMEOUT_MS,
		);
		if (options.signal) {
			this.signal = options.signal;
			options.signal.addEventListener('abort', this);
		}
	}

	/** The signal was aborted (EventTarget calls listener objects here). */
	handleEvent(): void {
		this.fail(cancelled(this.host, this.port));
	}

	connected(): void {
		if (this.settle()) {
			this.socket.off('error', onPendingError);
			this.resolve(this.socket);
		}
	}

	failed(error: NodeJS.ErrnoException): void {
		this.fail(
			// A policy refusal (from the lookup) keeps its code; a socket error becomes a connect error.
			error instanceof BerthError
				? error
				: new BerthError('BERTH_ERR_CONNECT', describeConnectError(error, this.host, this.port), undefined, {
						cause: error,
					}),
		);
	}

	private fail(error: BerthError): void {
		if (this.settle()) {
			this.socket.destroy();
			this.reject(error);
		}
	}

	/** True the first time: the deadline and the abort listener go, the socket forgets this. */
	private settle(): boolean {
		if (this.settled) {
			return false;
		}
		this.settled = true;
		this.deadline?.dispose();
		this.signal?.removeEventListener('abort', this);
		this.socket.off('connect', onPendingConnect);
		(this.socket as PendingSocket)[kPending] = undefined;
		return true;
	}
}

const kPending = Symbol('berth.pendingConnect');
type PendingSocket = Socket & { [kPending]: PendingConnect | undefined };

// Shared listeners: EventEmitter calls them with `this` = the socket.
function onPendingConnect(this: PendingSocket): void {
	this[kPending]?.connected();
}
function onPendingError(this: PendingSocket, error: NodeJS.ErrnoException): void {
	this[kPending]?.failed(error);
}

function cancelled(host: string, port: number): BerthError {
	return new BerthError('BERTH_ERR_CLOSED', `the connect to ${formatHostPort(host, port)} was given up`);
}

type ResolveDone = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

/** Every address of a name, as `dns.lookup` with `all: true` answers (tests answer from a table). */
export type TargetResolver = (hostname: string, options: LookupOptions, done: ResolveDone) => void;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS). */
const systemResolver: TargetResolver = (hostname, options, done) =>
	dnsLookup(hostname, { ...options, all: true }, done);

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
function targetLookup(
	policy: TargetPolicy | undefined,
	port: number,
	resolver: TargetResolver,
): LookupFunction {
	return (hostname, options, callback) => {
		const resolve = (done: ResolveDone): void => {
			if (hostname.toLowerCase() === 'localhost') {
				done(null, [...LOCALHOST_ADDRESSES]);
			} else {
				resolver(hostname, options, done);
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
					new BerthError('BERTH_ERR_POLICY', refusals[0] ?? `${hostname} has no allowed address`),
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
