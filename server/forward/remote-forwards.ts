import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { BerthError, errorMessage } from '../../protocol/errors';
import { isInteger, isObject, isPort, isString } from '../../protocol/guards';
import { Disposable } from '../../protocol/lifecycle';
import type { Mux } from '../../protocol/mux';
import type { AddForwardParams, ForwardInfo } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import { createNodeTimers } from '../shared/transport/node-timers';
import { StreamSocketBridge } from '../shared/stream-socket-bridge';
import { ForwardStats } from '../shared/forward-stats';
import { formatHostPort } from '../../protocol/host-port';
import { resolveBindAddress, systemBindLookup, type BindLookup } from './bind-address';
import { FORWARD_LISTEN_BACKLOG } from '../shared/listen-backlog';

/** Where a remote listener binds when the client names no address. */
const DEFAULT_REMOTE_BIND = '127.0.0.1';

export interface RemoteForwardsOptions {
	readonly mux: Mux;
	/** Whether clients may bind non-loopback addresses (`berth server --allow-remote-bind`). */
	readonly allowRemoteBind: boolean;
	readonly log: Logger;
	/**
	 * For the counters' throttle. Optional only until MuxConnections passes its own; Node's
	 * timers until then.
	 */
	readonly timers: Timers;
	/** A forward started, failed, ended, or its counters moved (throttled). */
	readonly onChange: (info: ForwardInfo) => void;
	/** Resolves bind names (tests answer with a table); the system's resolver when not given. */
	readonly lookup?: BindLookup;
	/**
	 * The port is taken: frees it when a session of the same holder that waits to be resumed holds
	 * it (that client most likely crashed and started again). True when it freed one.
	 */
	readonly reclaim?: (port: number) => boolean;
}

interface RemoteForward {
	readonly info: Omit<ForwardInfo, 'counters' | 'state'>;
	readonly server: Server;
	readonly stats: ForwardStats;
}

/**
 * One session's reverse (-R) forwards: listeners on the agent whose connections go back to the
 * client as streams, to a target on the client's side. They live as long as their session.
 */
export class RemoteForwards extends Disposable {
	private readonly forwards = new Map<string, RemoteForward>();
	private readonly timers: Timers;

	constructor(private readonly options: RemoteForwardsOptions) {
		super();
		this.timers = options.timers ?? createNodeTimers();
		this._register({
			dispose: () => {
				for (const id of [...this.forwards.keys()]) {
					this.remove(id);
				}
			},
		});
	}

	list(): ForwardInfo[] {
		return [...this.forwards.values()].map((f) => this.describe(f, 'active'));
	}

	/**
	 * Opens the listener, on the address its bind host resolves to (checked, then bound: see
	 * `resolveBindAddress`).
	 * @throws BerthError BERTH_ERR_USAGE (bad params, a non-loopback bind without
	 *   --allow-remote-bind), BERTH_ERR_LISTEN (the port is taken, the name does not resolve).
	 */
	async add(raw: unknown): Promise<ForwardInfo> {
		const params = parseAddForwardParams(raw);
		const bindHost = params.bindHost ?? DEFAULT_REMOTE_BIND;
		const id = params.id ?? randomUUID();
		if (this.forwards.has(id)) {
			throw new BerthError('BERTH_ERR_USAGE', `a forward with id ${id} already exists`);
		}
		const address = await resolveBindAddress(bindHost, params.bindPort, {
			allowRemoteBind: this.options.allowRemoteBind,
			lookup: this.options.lookup ?? systemBindLookup,
		});
		const server = await listenOn(bindHost, address, params.bindPort).catch((error: unknown) => {
			if (params.bindPort !== 0 && isAddressInUse(error) && this.options.reclaim?.(params.bindPort)) {
				return listenOn(bindHost, address, params.bindPort);
			}
			throw error;
		});
		if (this.isDisposed || this.forwards.has(id)) {
			// The session ended, or a twin request won, while this one resolved and listened.
			server.close();
			throw this.isDisposed
				? new BerthError('BERTH_ERR_CLOSED', 'the session ended while the listener opened')
				: new BerthError('BERTH_ERR_USAGE', `a forward with id ${id} already exists`);
		}
		return this.adopt(id, params, bindHost, address, server);
	}

	/** A listener is up: keep it, carry its connections, say so. */
	private adopt(
		id: string,
		params: AddForwardParams,
		bindHost: string,
		address: string,
		server: Server,
	): ForwardInfo {
		const bound = server.address();
		const forward: RemoteForward = {
			info: {
				id,
				direction: 'remote',
				bindHost,
				bindPort: typeof bound === 'object' && bound ? bound.port : params.bindPort,
				targetHost: params.targetHost,
				targetPort: params.targetPort,
			},
			server,
			stats: new ForwardStats(() => this.options.onChange(this.describe(forward, 'active')), this.timers),
		};
		this.forwards.set(id, forward);
		server.on('connection', (socket: Socket) => this.carry(forward, socket));
		server.on('error', (error) =>
			this.options.log.warn('remote forward listener failed', { id, error: error.message }),
		);
		this.options.log.info('remote forward listening', {
			id,
			bind: formatHostPort(bindHost, forward.info.bindPort),
			address,
			target: formatHostPort(params.targetHost, params.targetPort),
		});
		const info = this.describe(forward, 'active');
		this.options.onChange(info);
		return info;
	}

	remove(id: string): boolean {
		const forward = this.forwards.get(id);
		if (!forward) {
			return false;
		}
		this.forwards.delete(id);
		forward.server.close();
		forward.stats.dispose();
		this.options.onChange(this.describe(forward, 'closed'));
		return true;
	}

	private carry(forward: RemoteForward, socket: Socket): void {
		const from = formatHostPort(socket.remoteAddress, socket.remotePort);
		let stream;
		try {
			// Bridged at once, as -L does: no OpenOk wanted (a refusal comes as a Reset).
			stream = this.options.mux.open({ kind: 'reverse', forward: forward.info.id, from, openOk: false });
		} catch (error) {
			forward.stats.failed(errorMessage(error));
			socket.destroy();
			return;
		}
		forward.stats.opened();
		new StreamSocketBridge(stream, socket, forward.stats.observer).start();
	}

	private describe(forward: RemoteForward, state: ForwardInfo['state']): ForwardInfo {
		const lastError = forward.stats.lastError;
		return {
			...forward.info,
			state,
			counters: forward.stats.counters,
			...(state === 'failed' && lastError ? { error: lastError } : {}),
		};
	}
}

function isAddressInUse(error: unknown): boolean {
	return (
		error instanceof BerthError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE'
	);
}

/** A listener on `address` (what `host` resolved to), paused on connect for the stream bridge. */
async function listenOn(host: string, address: string, port: number): Promise<Server> {
	const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) => {
			const where =
				host === address ? formatHostPort(host, port) : `${formatHostPort(host, port)} (${address})`;
			reject(
				new BerthError(
					'BERTH_ERR_LISTEN',
					`cannot listen on ${where} on the agent: ${error.code ?? error.message}`,
					undefined,
					{ cause: error },
				),
			);
		});
		server.listen({ host: address, port, backlog: FORWARD_LISTEN_BACKLOG }, () => resolve());
	});
	return server;
}

/** Validates `addForward` params from the wire. */
export function parseAddForwardParams(raw: unknown): AddForwardParams {
	const bad = (why: string) => new BerthError('BERTH_ERR_USAGE', `addForward: ${why}`);
	if (!isObject(raw)) {
		throw bad('params must be an object');
	}
	const { id, bindHost, bindPort, targetHost, targetPort } = raw;
	if (id !== undefined && !(isString(id) && /^[\w-]{1,64}$/.test(id))) {
		throw bad('id must be 1-64 letters, digits, - or _');
	}
	if (bindHost !== undefined && !(isString(bindHost) && bindHost.length > 0 && bindHost.length <= 255)) {
		throw bad('bindHost must be a host name or address');
	}
	if (!isInteger(bindPort, 0, 65535)) {
		throw bad('bindPort must be 0-65535');
	}
	if (!isString(targetHost) || targetHost.length === 0 || targetHost.length > 255) {
		throw bad('targetHost must be a host name or address');
	}
	if (!isPort(targetPort)) {
		throw bad('targetPort must be 1-65535');
	}
	return {
		...(id !== undefined ? { id } : {}),
		...(bindHost !== undefined ? { bindHost } : {}),
		bindPort,
		targetHost,
		targetPort,
	};
}
