/**
 * The panel's state, computed from the connections: one row per forward (local -L or reverse -R),
 * one per proxy port (SOCKS proxy here, or this machine's network shared on the agent), and one
 * per detected port that no forward reaches yet. Pure (plain data in, PortsViewState
 * out), so it is unit-tested; extension/ports/ports-presenter.ts feeds it.
 */

import type { ForwardInfo, ListeningPort } from '../../protocol/rpc';
import type { ProxyInfo } from '../../server/client/index';
import type {
	AgentRow,
	AgentStatus,
	DetectedPortRow,
	LocalForwardRow,
	PortOrigin,
	PortRow,
	PortsViewState,
	RemoteForwardRow,
} from '../../protocol/webview';
import type { OutageSummary, ReconnectingStatus } from '../agent/link-outages';
import { isForwardableHost, listeningPortKey } from '../agent/listening-ports';
import type { TokenProblem } from '../error-text';
import { formatHostPort } from './forward-input';
import { proxyRows } from './proxy-rows';
import { forwardKey, rowKeyOf } from './row-keys';
import { describeAgentState, forwardProblem } from './row-problem';

/** Where a connection stands, as the model needs it (connections.ts's ConnectionStatus fits). */
export type AgentConnectionState =
	| { readonly type: 'connecting' }
	| {
			readonly type: 'connected';
			readonly host?: string;
			readonly version?: string;
			/** The link's drops since connecting, once there was one. */
			readonly drops?: OutageSummary;
	  }
	| ReconnectingStatus
	| { readonly type: 'failed'; readonly message: string; readonly tokenProblem?: TokenProblem };

/** One agent and what it carries. */
export interface AgentInput {
	readonly id: string;
	readonly url: string;
	readonly isLocal: boolean;
	readonly peer: 'berth' | 'vscode';
	readonly state: AgentConnectionState;
	/** Whom this window is signed in as there (a user token's email). */
	readonly user?: string;
	readonly forwards: readonly ForwardInfo[];
	/** Its proxy ports: SOCKS proxies through it, and this machine's network shared on it. */
	readonly proxies: readonly ProxyInfo[];
	/** undefined: the agent cannot report its ports (or has not answered yet). */
	readonly listeningPorts: readonly ListeningPort[] | undefined;
}

/** Bytes per second each way. */
export interface TrafficRate {
	readonly rateIn: number;
	readonly rateOut: number;
}

/** Everything the panel's state is made of. */
export interface ModelInput {
	readonly agents: readonly AgentInput[];
	/** Origin of each forward, by `forwardKey` (user when unknown). */
	readonly origins: ReadonlyMap<string, PortOrigin>;
	/** The label for a port: the user's, else one from berth.portsAttributes. */
	readonly labelFor: (agentId: string, host: string, port: number, command?: string) => string | undefined;
	/** The address that opens a local forward from this window, by `forwardKey`, once resolved. */
	readonly urls?: ReadonlyMap<string, string>;
	/** Traffic rates, by `forwardKey` of a forward or a proxy (0 when absent). */
	readonly rates?: ReadonlyMap<string, TrafficRate>;
	readonly notice?: string;
}

export { forwardKey, rowKeyOf } from './row-keys';

/**
 * The panel's state: agents in the given order, each followed by its local forwards, its reverse
 * forwards (each by port), its proxies (SOCKS first, each by port), then its detected ports. This machine's agent lists no
 * detected ports (they are reachable here already), nor does an agent while it is away.
 */
export function buildPortsViewState(input: ModelInput): PortsViewState {
	const agents: AgentRow[] = [];
	const rows: PortRow[] = [];
	for (const agent of input.agents) {
		agents.push(toAgentRow(agent));
		const forwards = agent.forwards
			.filter((f) => f.state !== 'closed')
			.sort(
				(a, b) =>
					Number(a.direction === 'remote') - Number(b.direction === 'remote') ||
					a.targetPort - b.targetPort ||
					a.bindPort - b.bindPort,
			);
		for (const forward of forwards) {
			rows.push(
				forward.direction === 'local'
					? toLocalRow(agent, forward, input)
					: toRemoteRow(agent, forward, input),
			);
		}
		rows.push(...proxyRows(agent, input));
		// This machine's ports are reachable here already; an agent away has only a stale list.
		if (!agent.isLocal && agent.state.type === 'connected') {
			rows.push(...detectedRows(agent, forwards, input));
		}
	}
	return { agents, rows, ...(input.notice ? { notice: input.notice } : {}) };
}

/** The agent's listeners that no forward reaches, nor are a reverse forward's own listener. */
function detectedRows(
	agent: AgentInput,
	forwards: readonly ForwardInfo[],
	input: ModelInput,
): DetectedPortRow[] {
	const out: DetectedPortRow[] = [];
	for (const port of agent.listeningPorts ?? []) {
		const reached = forwards.some((f) =>
			f.direction === 'local' ? reaches(f, port) : f.bindPort === port.port,
		);
		if (isForwardableHost(port.host) && !reached) {
			out.push(toDetectedRow(agent.id, port, input));
		}
	}
	return out;
}

/** A listener reached by a local forward: same port, and the forward's target names that listener's host. */
function reaches(forward: ForwardInfo, port: ListeningPort): boolean {
	if (forward.targetPort !== port.port) {
		return false;
	}
	const target = forward.targetHost.toLowerCase();
	return target === port.host || (isForwardableHost(target) && isForwardableHost(port.host));
}

/**
 * Whether something listens where a local forward leads: undefined when the agent cannot tell
 * (it does not report its ports, or the target is another host).
 */
function isListening(forward: ForwardInfo, ports: readonly ListeningPort[] | undefined): boolean | undefined {
	if (ports === undefined || !isForwardableHost(forward.targetHost.toLowerCase())) {
		return undefined;
	}
	return ports.some((p) => reaches(forward, p));
}

function toAgentRow(agent: AgentInput): AgentRow {
	return {
		id: agent.id,
		label: agent.isLocal ? 'This machine' : agent.url,
		url: agent.url,
		isLocal: agent.isLocal,
		peer: agent.peer,
		status: statusOf(agent.state),
		detail: describeAgentState(agent.state, agent.peer),
		detectsPorts: agent.listeningPorts !== undefined,
		...(agent.user !== undefined ? { user: agent.user } : {}),
		...(agent.state.type === 'failed' && agent.state.tokenProblem ? { needsSignIn: true } : {}),
	};
}

function statusOf(state: AgentConnectionState): AgentStatus {
	return state.type;
}

/** The fields of every forward row. */
function forwardFields(agent: AgentInput, forward: ForwardInfo, input: ModelInput, listening?: boolean) {
	const key = forwardKey(agent.id, forward.id);
	const rate = input.rates?.get(key);
	const problem = forwardProblem(agent, forward, listening);
	return {
		agentId: agent.id,
		forwardId: forward.id,
		origin: input.origins.get(key) ?? 'user',
		state: forward.state === 'failed' ? 'failed' : 'active',
		openConnections: forward.counters.open,
		totalConnections: forward.counters.total,
		bytesIn: forward.counters.bytesIn,
		bytesOut: forward.counters.bytesOut,
		rateIn: rate?.rateIn ?? 0,
		rateOut: rate?.rateOut ?? 0,
		...(forward.counters.lastError !== undefined ? { lastError: forward.counters.lastError } : {}),
		...(problem ? { problem } : {}),
	} as const;
}

function toLocalRow(agent: AgentInput, forward: ForwardInfo, input: ModelInput): LocalForwardRow {
	const listener = agent.listeningPorts?.find((p) => reaches(forward, p));
	const label = input.labelFor(agent.id, forward.targetHost, forward.targetPort, listener?.command);
	const process = describeProcess(listener);
	const url = input.urls?.get(forwardKey(agent.id, forward.id));
	return {
		kind: 'local',
		key: rowKeyOf(agent.id, 'local', forward.id),
		host: forward.targetHost,
		port: forward.targetPort,
		...(label !== undefined ? { label } : {}),
		...forwardFields(agent, forward, input, isListening(forward, agent.listeningPorts)),
		localAddress: formatHostPort(forward.bindHost, forward.bindPort),
		...(url !== undefined ? { url } : {}),
		...(process !== undefined ? { process } : {}),
	};
}

/** A reverse forward: the row's port is the target on this side; the agent's listener is its address. */
function toRemoteRow(agent: AgentInput, forward: ForwardInfo, input: ModelInput): RemoteForwardRow {
	return {
		kind: 'remote',
		key: rowKeyOf(agent.id, 'remote', forward.id),
		host: forward.targetHost,
		port: forward.targetPort,
		...forwardFields(agent, forward, input),
		agentAddress: formatHostPort(forward.bindHost, forward.bindPort),
	};
}

function toDetectedRow(agentId: string, port: ListeningPort, input: ModelInput): DetectedPortRow {
	const label = input.labelFor(agentId, port.host, port.port, port.command);
	const process = describeProcess(port);
	return {
		kind: 'detected',
		key: rowKeyOf(agentId, 'detected', listeningPortKey(port)),
		agentId,
		host: port.host,
		port: port.port,
		...(label !== undefined ? { label } : {}),
		...(process !== undefined ? { process } : {}),
	};
}

function describeProcess(port: ListeningPort | undefined): string | undefined {
	if (!port || (port.command === undefined && port.pid === undefined)) {
		return undefined;
	}
	return `${port.command ?? 'unknown'}${port.pid !== undefined ? ` (${port.pid})` : ''}`;
}

/** A row's port as the user names it: `Docs server (47427)`, `3000`, `db:5432`. */
export function rowPortName(row: Pick<PortRow, 'host' | 'port' | 'label'>): string {
	const port = isForwardableHost(row.host.toLowerCase())
		? String(row.port)
		: formatHostPort(row.host, row.port);
	return row.label ? `${row.label} (${port})` : port;
}

/**
 * The line said above everything when the panel has no agent and a reason to explain (Restricted
 * Mode); the welcome view says the rest.
 */
export function panelNotice(input: { trusted: boolean; agents: number }): string | undefined {
	if (input.agents > 0 || input.trusted) {
		return undefined;
	}
	return 'Restricted Mode: tunnel access stays off because this workspace is not trusted. You can still connect to an agent and forward its ports.';
}
