/**
 * The panel's state, computed from the connections: one row per forward, and one per detected
 * port that no forward reaches yet. Pure (plain data in, PortsViewState out), so it is
 * unit-tested; extension/ports/ports-presenter.ts feeds it.
 */

import type { ForwardInfo, ListeningPort } from '../../protocol/rpc';
import type {
	AgentRow,
	AgentStatus,
	PortOrigin,
	PortRow,
	PortsViewState,
	ToWebview,
} from '../../protocol/webview';
import { isForwardableHost, listeningPortKey } from '../agent/listening-ports';
import { formatHostPort } from './forward-input';

/** Where a connection stands, as the model needs it (connections.ts's ConnectionStatus fits). */
export type AgentConnectionState =
	| { readonly type: 'connecting' }
	| { readonly type: 'connected'; readonly host?: string; readonly version?: string }
	| {
			readonly type: 'reconnecting';
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	| { readonly type: 'failed'; readonly message: string };

/** One agent and what it carries. */
export interface AgentInput {
	readonly id: string;
	readonly url: string;
	readonly isLocal: boolean;
	readonly peer: 'berth' | 'vscode';
	readonly state: AgentConnectionState;
	readonly forwards: readonly ForwardInfo[];
	/** undefined: the agent cannot report its ports (or has not answered yet). */
	readonly listeningPorts: readonly ListeningPort[] | undefined;
}

/** Everything the panel's state is made of. */
export interface ModelInput {
	readonly agents: readonly AgentInput[];
	/** Origin of each forward, by `agentId|forwardId` (user when unknown). */
	readonly origins: ReadonlyMap<string, PortOrigin>;
	/** The label for a port: the user's, else one from berth.portsAttributes. */
	readonly labelFor: (agentId: string, host: string, port: number, command?: string) => string | undefined;
	readonly notice?: string;
}

/** The key of a forward in `ModelInput.origins`. */
export function forwardKey(agentId: string, forwardId: string): string {
	return `${agentId}|${forwardId}`;
}

/** A row key's middle part per kind: short, as keys travel in every patch and sit in the DOM. */
const KIND_CODES: Readonly<Record<'local' | 'remote' | 'detected', string>> = {
	local: 'f',
	remote: 'r',
	detected: 'd',
};

/**
 * A row's key, stable across updates: `agentId|f|forwardId` (local forward), `agentId|r|forwardId`
 * (reverse forward), `agentId|d|host:port` (detected port, `host:port` from `listeningPortKey`).
 * PortsViewProvider.reveal takes it. (Area C's stub of the agreed contract; area B's replaces it.)
 */
export function rowKeyOf(
	agentId: string,
	kind: 'local' | 'remote' | 'detected',
	idOrHostPort: string,
): string {
	return `${agentId}|${KIND_CODES[kind]}|${idOrHostPort}`;
}

/** The panel's state: agents in the given order, each followed by its forwards (by port), then its detected ports. */
export function buildPortsViewState(input: ModelInput): PortsViewState {
	const agents: AgentRow[] = [];
	const rows: PortRow[] = [];
	// This machine's agent also sees the listeners of our own forwards: those are not candidates.
	const ownListeners = new Set(input.agents.flatMap((a) => a.forwards.map((f) => f.bindPort)));
	for (const agent of input.agents) {
		agents.push(toAgentRow(agent));
		const ports = agent.listeningPorts ?? [];
		const reached = new Set<string>();
		const forwards = agent.forwards
			.filter((f) => f.state !== 'closed')
			.sort((a, b) => a.targetPort - b.targetPort || a.bindPort - b.bindPort);
		for (const forward of forwards) {
			const listener = ports.find((p) => reaches(forward, p));
			if (listener) {
				reached.add(listeningPortKey(listener));
			}
			rows.push(toForwardRow(agent.id, forward, listener, input));
		}
		for (const port of ports) {
			const ours = agent.isLocal && ownListeners.has(port.port);
			if (isForwardableHost(port.host) && !reached.has(listeningPortKey(port)) && !ours) {
				rows.push(toDetectedRow(agent.id, port, input));
			}
		}
	}
	return { agents, rows, ...(input.notice ? { notice: input.notice } : {}) };
}

/** The message that brings a webview from `previous` to `next`; undefined when nothing changed. */
export function diffPortsState(
	previous: PortsViewState | undefined,
	next: PortsViewState,
): ToWebview | undefined {
	if (
		!previous ||
		previous.notice !== next.notice ||
		JSON.stringify(previous.agents) !== JSON.stringify(next.agents) ||
		!sameOrder(previous.rows, next.rows)
	) {
		return { type: 'snapshot', state: next };
	}
	const before = new Map(previous.rows.map((r) => [r.key, JSON.stringify(r)]));
	const upserted = next.rows.filter((r) => before.get(r.key) !== JSON.stringify(r));
	const keys = new Set(next.rows.map((r) => r.key));
	const removed = previous.rows.filter((r) => !keys.has(r.key)).map((r) => r.key);
	return upserted.length === 0 && removed.length === 0 ? undefined : { type: 'patch', upserted, removed };
}

/** A patch can only drop rows and change values: new rows (and their place) come in a snapshot. */
function sameOrder(previous: readonly PortRow[], next: readonly PortRow[]): boolean {
	const nextKeys = next.map((r) => r.key);
	const kept = new Set(nextKeys);
	const previousKept = previous.map((r) => r.key).filter((k) => kept.has(k));
	return previousKept.length === nextKeys.length && previousKept.every((k, i) => k === nextKeys[i]);
}

/** A listener reached by a forward: same port, and the forward's target names that listener's host. */
function reaches(forward: ForwardInfo, port: ListeningPort): boolean {
	if (forward.targetPort !== port.port) {
		return false;
	}
	const target = forward.targetHost.toLowerCase();
	return target === port.host || (isForwardableHost(target) && isForwardableHost(port.host));
}

function toAgentRow(agent: AgentInput): AgentRow {
	return {
		id: agent.id,
		label: agent.isLocal ? 'This machine' : agent.url.replace(/^wss?:\/\//, ''),
		url: agent.url,
		isLocal: agent.isLocal,
		peer: agent.peer,
		status: statusOf(agent.state),
		detail: describeAgentState(agent.state, agent.peer),
		detectsPorts: agent.listeningPorts !== undefined,
	};
}

function statusOf(state: AgentConnectionState): AgentStatus {
	return state.type;
}

/** A short sentence for the panel and tooltips. */
export function describeAgentState(state: AgentConnectionState, peer: 'berth' | 'vscode'): string {
	switch (state.type) {
		case 'connecting':
			return 'Connecting…';
		case 'connected':
			if (peer === 'vscode') {
				return 'Connected to a VS Code server (its identity cannot be verified)';
			}
			return `Connected${state.host ? ` to ${state.host}` : ''}${state.version ? ` (Berth ${state.version})` : ''}`;
		case 'reconnecting':
			return (
				`Connection lost; reconnecting in ${Math.round(state.delayMs / 1000)} s (attempt ${state.attempt})` +
				(state.lastError ? `: ${state.lastError}` : '')
			);
		case 'failed':
			return `Disconnected: ${state.message}`;
	}
}

function toForwardRow(
	agentId: string,
	forward: ForwardInfo,
	listener: ListeningPort | undefined,
	input: ModelInput,
): PortRow {
	const label = input.labelFor(agentId, forward.targetHost, forward.targetPort, listener?.command);
	const error = forward.error ?? forward.counters.lastError;
	const process = describeProcess(listener);
	return {
		key: `${agentId}|f|${forward.id}`,
		agentId,
		forwardId: forward.id,
		host: forward.targetHost,
		port: forward.targetPort,
		...(label !== undefined ? { label } : {}),
		localAddress: formatHostPort(forward.bindHost, forward.bindPort),
		...(process !== undefined ? { process } : {}),
		origin: input.origins.get(forwardKey(agentId, forward.id)) ?? 'user',
		openConnections: forward.counters.open,
		totalConnections: forward.counters.total,
		bytesIn: forward.counters.bytesIn,
		bytesOut: forward.counters.bytesOut,
		state: forward.state === 'failed' ? 'failed' : 'active',
		...(error !== undefined ? { error } : {}),
	};
}

function toDetectedRow(agentId: string, port: ListeningPort, input: ModelInput): PortRow {
	const label = input.labelFor(agentId, port.host, port.port, port.command);
	const process = describeProcess(port);
	return {
		key: `${agentId}|d|${listeningPortKey(port)}`,
		agentId,
		host: port.host,
		port: port.port,
		...(label !== undefined ? { label } : {}),
		...(process !== undefined ? { process } : {}),
		openConnections: 0,
		totalConnections: 0,
		bytesIn: 0,
		bytesOut: 0,
		state: 'detected',
	};
}

function describeProcess(port: ListeningPort | undefined): string | undefined {
	if (!port || (port.command === undefined && port.pid === undefined)) {
		return undefined;
	}
	return `${port.command ?? 'unknown'}${port.pid !== undefined ? ` (${port.pid})` : ''}`;
}

/** The line above the table when there is nothing to show yet, or a reason to explain. */
export function panelNotice(input: { trusted: boolean; agents: number }): string | undefined {
	if (input.agents > 0) {
		return undefined;
	}
	return input.trusted
		? 'No agent connected. Turn on tunnel access to forward through this machine, or connect to a remote agent.'
		: 'Restricted Mode: tunnel access is off because this workspace is not trusted. You can still connect to a remote agent.';
}
