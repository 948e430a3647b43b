/**
 * What this window remembers across reloads (workspace state, never a secret): whether tunnel
 * access was on, the agents it was connected to, the user's forwards (both ways) and proxy ports,
 * the port labels and the protocols chosen with Change Port Protocol.
 * Tokens live in SecretStorage. Parsing is pure and defensive: the stored value may come from an
 * older version.
 */

import { isBoolean, isObject, isPort, isString } from '../../protocol/guards';
import { formatHostPort } from '../../protocol/host-port';

/** A remote agent to reconnect to (its token is in SecretStorage under the same URL). */
export interface SavedAgent {
	readonly url: string;
	readonly peer: 'berth' | 'vscode';
}

/** A user forward to bring back: target as the agent sees it, and the local port it had. */
export interface SavedForward {
	readonly agentId: string;
	readonly host: string;
	readonly port: number;
	readonly localPort: number;
}

/** A reverse forward to bring back: the agent listens on bindHost:bindPort, connections come to host:port here. */
export interface SavedReverseForward {
	readonly agentId: string;
	readonly bindHost: string;
	readonly bindPort: number;
	readonly host: string;
	readonly port: number;
}

/**
 * A proxy port to bring back: a SOCKS proxy on this machine's `port` through the agent
 * (`socks`), or this machine's network shared on the agent's `port` (`share`).
 */
export interface SavedProxy {
	readonly agentId: string;
	readonly mode: 'socks' | 'share';
	readonly port: number;
}

/** The scheme Open in Browser uses for a port. */
export type SavedProtocol = 'http' | 'https';

/** Everything remembered for this window. */
export interface SavedState {
	readonly tunnelAccess: boolean;
	readonly agents: readonly SavedAgent[];
	readonly forwards: readonly SavedForward[];
	readonly reverseForwards: readonly SavedReverseForward[];
	readonly proxies: readonly SavedProxy[];
	/** Port labels, by `labelKey`: `agentId|port` for this agent's own host, else `agentId|host:port`. */
	readonly labels: Readonly<Record<string, string>>;
	/** Protocols chosen by the user, by `portKey` (agent and port; loopback spellings are one host). */
	readonly protocols: Readonly<Record<string, SavedProtocol>>;
}

/** A window that remembers nothing. */
export const EMPTY_SAVED_STATE: SavedState = {
	tunnelAccess: false,
	agents: [],
	forwards: [],
	reverseForwards: [],
	proxies: [],
	labels: {},
	protocols: {},
};

/** Most entries kept of each kind. */
const MAX_ENTRIES = 256;
const MAX_TEXT_CHARS = 512;

/** Reads the stored value; invalid entries are dropped, and anything unreadable starts empty. */
export function parseSavedState(value: unknown): SavedState {
	if (!isObject(value)) {
		return EMPTY_SAVED_STATE;
	}
	const list = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, MAX_ENTRIES) : []);
	const agents = list(value['agents']).flatMap((a): SavedAgent[] =>
		isObject(a) && isText(a['url']) && (a['peer'] === 'berth' || a['peer'] === 'vscode')
			? [{ url: a['url'], peer: a['peer'] }]
			: [],
	);
	const forwards = list(value['forwards']).flatMap((f): SavedForward[] =>
		isObject(f) &&
		isText(f['agentId']) &&
		isText(f['host']) &&
		isPort(f['port']) &&
		isPort(f['localPort'], true)
			? [{ agentId: f['agentId'], host: f['host'], port: f['port'], localPort: f['localPort'] }]
			: [],
	);
	const reverseForwards = list(value['reverseForwards']).flatMap((f): SavedReverseForward[] =>
		isObject(f) &&
		isText(f['agentId']) &&
		isText(f['bindHost']) &&
		isPort(f['bindPort']) &&
		isText(f['host']) &&
		isPort(f['port'])
			? [
					{
						agentId: f['agentId'],
						bindHost: f['bindHost'],
						bindPort: f['bindPort'],
						host: f['host'],
						port: f['port'],
					},
				]
			: [],
	);
	const proxies = list(value['proxies']).flatMap((p): SavedProxy[] =>
		isObject(p) &&
		isText(p['agentId']) &&
		(p['mode'] === 'socks' || p['mode'] === 'share') &&
		isPort(p['port'])
			? [{ agentId: p['agentId'], mode: p['mode'], port: p['port'] }]
			: [],
	);
	const labels: Record<string, string> = {};
	if (isObject(value['labels'])) {
		for (const [key, label] of Object.entries(value['labels']).slice(0, MAX_ENTRIES)) {
			const canonical = isText(key) ? canonicalLabelKey(key) : undefined;
			// Older versions keyed labels by the spelling of the host: the first of the spellings wins.
			if (canonical !== undefined && isText(label) && !(canonical in labels)) {
				labels[canonical] = label;
			}
		}
	}
	return {
		tunnelAccess: isBoolean(value['tunnelAccess']) ? value['tunnelAccess'] : false,
		agents,
		forwards,
		reverseForwards,
		proxies,
		labels,
		protocols: readRecord(value['protocols'], (v): v is SavedProtocol => v === 'http' || v === 'https'),
	};
}

function readRecord<T>(value: unknown, isValue: (v: unknown) => v is T): Record<string, T> {
	const out: Record<string, T> = {};
	if (isObject(value)) {
		for (const [key, item] of Object.entries(value).slice(0, MAX_ENTRIES)) {
			if (isText(key) && isValue(item)) {
				out[key] = item;
			}
		}
	}
	return out;
}

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

/** The key of a per-port preference: agent and port, with `localhost`, `127.0.0.1` and `::1` as one host. */
export function portKey(agentId: string, host: string, port: number): string {
	const name = host.toLowerCase();
	return `${agentId}|${LOOPBACK_NAMES.has(name) ? 'localhost' : name}:${port}`;
}

/** The state with the protocol for a port set. */
export function withProtocol(state: SavedState, key: string, protocol: SavedProtocol): SavedState {
	return { ...state, protocols: { ...state.protocols, [key]: protocol } };
}

/** The state with `forward` remembered once (same agent and bind port replace the old entry). */
export function withReverseForward(state: SavedState, forward: SavedReverseForward): SavedState {
	return { ...state, reverseForwards: [...withoutReverseForward(state, forward).reverseForwards, forward] };
}

/** The state without the reverse forward that listens on that agent's port. */
export function withoutReverseForward(
	state: SavedState,
	forward: Pick<SavedReverseForward, 'agentId' | 'bindPort'>,
): SavedState {
	return {
		...state,
		reverseForwards: state.reverseForwards.filter(
			(f) => !(f.agentId === forward.agentId && f.bindPort === forward.bindPort),
		),
	};
}

/**
 * Every spelling of "the agent's own host" as a forward target or a listener: a label names the
 * port, whichever of these reached it.
 */
const OWN_HOST_SPELLINGS: ReadonlySet<string> = new Set([
	'localhost',
	'127.0.0.1',
	'::1',
	'0.0.0.0',
	'::',
	'0:0:0:0:0:0:0:1',
	'0:0:0:0:0:0:0:0',
]);

/**
 * The key of a port label: per agent and port (`agentId|3000`) for the agent's own host however
 * it is spelled (`localhost`, `127.0.0.1`, `::1`, `0.0.0.0`), per host and port for another
 * host (`agentId|db:5432`).
 */
export function labelKey(agentId: string, host: string, port: number): string {
	const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
	return OWN_HOST_SPELLINGS.has(name) ? `${agentId}|${port}` : `${agentId}|${formatHostPort(name, port)}`;
}

/**
 * A stored label key in today's form: `agentId|port` stays, `agentId|host:port` (an older
 * version's key, the host unbracketed: `local|::1:3000`) goes through `labelKey`. Undefined for
 * a key that is neither.
 */
export function canonicalLabelKey(key: string): string | undefined {
	const bar = key.indexOf('|');
	if (bar <= 0) {
		return undefined;
	}
	const agentId = key.slice(0, bar);
	const rest = key.slice(bar + 1);
	const colon = rest.lastIndexOf(':');
	const host = colon < 0 ? undefined : rest.slice(0, colon);
	const digits = colon < 0 ? rest : rest.slice(colon + 1);
	const port = Number(digits);
	if (!/^\d{1,5}$/.test(digits) || !isPort(port) || host === '') {
		return undefined;
	}
	return host === undefined ? `${agentId}|${port}` : labelKey(agentId, host, port);
}

/** The state with `forward` remembered once (same agent, host and port replace the old entry). */
export function withForward(state: SavedState, forward: SavedForward): SavedState {
	return { ...state, forwards: [...withoutForward(state, forward).forwards, forward] };
}

/** The state without the forward of that target. */
export function withoutForward(state: SavedState, target: Omit<SavedForward, 'localPort'>): SavedState {
	return {
		...state,
		forwards: state.forwards.filter(
			(f) => !(f.agentId === target.agentId && f.host === target.host && f.port === target.port),
		),
	};
}

/** The state with `proxy` remembered once (the same agent, mode and port replace the old entry). */
export function withProxy(state: SavedState, proxy: SavedProxy): SavedState {
	return { ...state, proxies: [...withoutProxy(state, proxy).proxies, proxy] };
}

/** The state without that proxy port. */
export function withoutProxy(state: SavedState, proxy: SavedProxy): SavedState {
	return {
		...state,
		proxies: state.proxies.filter(
			(p) => !(p.agentId === proxy.agentId && p.mode === proxy.mode && p.port === proxy.port),
		),
	};
}

/** The state with `agent` remembered once (by URL). */
export function withAgent(state: SavedState, agent: SavedAgent): SavedState {
	return { ...state, agents: [...state.agents.filter((a) => a.url !== agent.url), agent] };
}

/** The state without the agent at `url`. */
export function withoutAgent(state: SavedState, url: string): SavedState {
	return { ...state, agents: state.agents.filter((a) => a.url !== url) };
}

/** The state with the label set, or removed when empty. */
export function withLabel(state: SavedState, key: string, label: string | undefined): SavedState {
	const labels = { ...state.labels };
	if (label === undefined || label.trim() === '') {
		delete labels[key];
	} else {
		labels[key] = label.trim().slice(0, MAX_TEXT_CHARS);
	}
	return { ...state, labels };
}

function isText(value: unknown): value is string {
	return isString(value) && value.length > 0 && value.length <= MAX_TEXT_CHARS;
}
