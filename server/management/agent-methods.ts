import { hostname } from 'node:os';
import { BerthError } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import type { IDisposable } from '../../protocol/lifecycle';
import type { AgentEvents, AgentMethods, ServerInfo } from '../../protocol/rpc';
import type { RpcEndpoint } from '../../protocol/rpc-endpoint';
import type { Timers } from '../../protocol/timers';
import type { PortWatcher } from '../forward/port-watcher';
import type { RemoteForwards } from '../forward/remote-forwards';

/** The agent's side of RPC: serves AgentMethods, sends AgentEvents. */
export type AgentRpc = RpcEndpoint<AgentMethods, Record<string, never>, AgentEvents, Record<string, never>>;

export interface AgentIdentity {
	readonly version: string;
	readonly commit: string;
	/** When the agent started, on its clock (`timers.now()`). */
	readonly startedAt: number;
	readonly reconnectionGraceMs: number;
}

/** What a session's methods reach: the host's ports, and (stream sessions only) its forwards. */
export interface AgentServices {
	readonly identity: AgentIdentity;
	/** The agent's clock, for its uptime. */
	readonly timers: Timers;
	/** Clients connected now. */
	readonly clients: () => number;
	readonly ports: PortWatcher;
	readonly forwards?: RemoteForwards;
}

/** The agent's answer to `serverInfo`; `now` is on the clock `identity.startedAt` was read from. */
export function describeAgent(identity: AgentIdentity, clients: number, now: number): ServerInfo {
	return {
		version: identity.version,
		commit: identity.commit,
		host: hostname(),
		platform: process.platform,
		uptime: Math.floor((now - identity.startedAt) / 1000),
		reconnectionGraceMs: identity.reconnectionGraceMs,
		clients,
	};
}

/**
 * Registers the methods every session serves. Returns what the session must dispose with it
 * (its subscription to port changes, made on its first `listeningPorts` call).
 */
export function serveAgentMethods(rpc: AgentRpc, services: AgentServices): IDisposable {
	let portsSubscription: IDisposable | undefined;
	// The wall clock on purpose: `receivedAt` is for the client to compare with its own `sentAt`.
	rpc.handle('ping', () => ({ receivedAt: Date.now() }));
	rpc.handle('serverInfo', () => describeAgent(services.identity, services.clients(), services.timers.now()));
	rpc.handle('listeningPorts', async () => {
		portsSubscription ??= services.ports.subscribe((change) => rpc.emit('portsChanged', change));
		return { ports: await services.ports.current() };
	});
	const forwards = (): RemoteForwards => {
		if (!services.forwards) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				'forwards are carried by stream sessions (connection type 32), not by Management sessions',
			);
		}
		return services.forwards;
	};
	rpc.handle('listForwards', () => ({ forwards: forwards().list() }));
	rpc.handle('addForward', (params) => forwards().add(params));
	rpc.handle('removeForward', (params) => {
		const id = isObject(params) && isString(params['id']) ? params['id'] : undefined;
		if (id === undefined || !forwards().remove(id)) {
			throw new BerthError('BERTH_ERR_USAGE', `removeForward: no forward with id ${JSON.stringify(id)}`);
		}
		return {};
	});
	return { dispose: () => portsSubscription?.dispose() };
}
