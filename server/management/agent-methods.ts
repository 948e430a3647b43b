import { hostname } from 'node:os';
import { BerthError } from '../../protocol/errors';
import { isArray, isObject, isString } from '../../protocol/guards';
import type { IDisposable } from '../../protocol/lifecycle';
import {
	isClientListener,
	MAX_CLIENT_NAME_CHARS,
	MAX_DECLARED_LISTENERS,
	type AgentEvents,
	type AgentMethods,
	type ClientListener,
	type ServerInfo,
} from '../../protocol/rpc';
import type { RpcEndpoint } from '../../protocol/rpc-endpoint';
import type { Timers } from '../../protocol/timers';
import type { PortWatcher } from '../forward/port-watcher';
import type { RemoteForwards } from '../forward/remote-forwards';
import type { AgentClients, ClientHandle } from '../agent-clients';

/** The agent's side of RPC: serves AgentMethods, sends AgentEvents. */
export type AgentRpc = RpcEndpoint<AgentMethods, Record<string, never>, AgentEvents, Record<string, never>>;

export interface AgentIdentity {
	readonly version: string;
	readonly commit: string;
	/** When the agent started, on its clock (`timers.now()`). */
	readonly startedAt: number;
	readonly reconnectionGraceMs: number;
	/** Which loopback the agent is on (server/shared/network-identity.ts). */
	readonly network: string;
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
	/** Every client session, for `listClients` and `disconnectClient`. */
	readonly registry: AgentClients;
	/** This session's own entry in it. */
	readonly self: ClientHandle;
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
		network: identity.network,
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
	serveClientMethods(rpc, services.registry, services.self);
	return { dispose: () => portsSubscription?.dispose() };
}

/** "Who is using my tunnel": every session may name itself, list the clients, end another's session. */
function serveClientMethods(rpc: AgentRpc, registry: AgentClients, self: ClientHandle): void {
	rpc.handle('hello', (params) => {
		self.setName(parseClientName(params));
		return {};
	});
	rpc.handle('listClients', () => ({ clients: registry.list(self.id) }));
	rpc.handle('disconnectClient', (params) => {
		const id = isObject(params) && isString(params['id']) ? params['id'] : undefined;
		if (id === undefined) {
			throw new BerthError('BERTH_ERR_USAGE', 'disconnectClient: params must be {id: string}');
		}
		registry.disconnect(id, self.id);
		return {};
	});
	rpc.handle('declareListeners', (params) => {
		self.declareListeners(parseDeclaredListeners(params));
		return {};
	});
}

/** C0 and C1 controls: a name is shown to people, and must not move their cursor or colour their terminal. */
// eslint-disable-next-line no-control-regex -- control characters are what is being removed
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** A `hello` name: trimmed, control characters replaced, cut at MAX_CLIENT_NAME_CHARS; not empty. */
export function parseClientName(params: unknown): string {
	const raw = isObject(params) && isString(params['name']) ? params['name'] : '';
	const name = raw.replace(CONTROL_CHARACTERS, ' ').trim().slice(0, MAX_CLIENT_NAME_CHARS);
	if (name.length === 0) {
		throw new BerthError('BERTH_ERR_USAGE', 'hello: params must be {name: string}, not empty');
	}
	return name;
}

/** `declareListeners` params: at most MAX_DECLARED_LISTENERS, each {host, port}. */
export function parseDeclaredListeners(params: unknown): ClientListener[] {
	const listeners = isObject(params) ? params['listeners'] : undefined;
	if (!isArray(listeners) || !listeners.every(isClientListener)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'declareListeners: params must be {listeners: [{host: string, port: 1-65535}, …]}',
		);
	}
	if (listeners.length > MAX_DECLARED_LISTENERS) {
		throw new BerthError(
			'BERTH_ERR_LIMIT',
			`declareListeners: at most ${MAX_DECLARED_LISTENERS} listeners per session (${listeners.length} given)`,
		);
	}
	return listeners.map(({ host, port }) => ({ host, port }));
}
