/**
 * What this window remembers across reloads (workspace state, never a secret): whether tunnel
 * access was on, the agents it was connected to, the user's forwards and the port labels.
 * Tokens live in SecretStorage. Parsing is pure and defensive: the stored value may come from an
 * older version.
 */

import { isBoolean, isObject, isPort, isString } from '../../protocol/guards';

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

/** Everything remembered for this window. */
export interface SavedState {
	readonly tunnelAccess: boolean;
	readonly agents: readonly SavedAgent[];
	readonly forwards: readonly SavedForward[];
	/** Port labels, by `agentId|host:port`. */
	readonly labels: Readonly<Record<string, string>>;
}

/** A window that remembers nothing. */
export const EMPTY_SAVED_STATE: SavedState = { tunnelAccess: false, agents: [], forwards: [], labels: {} };

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
	const labels: Record<string, string> = {};
	if (isObject(value['labels'])) {
		for (const [key, label] of Object.entries(value['labels']).slice(0, MAX_ENTRIES)) {
			if (isText(key) && isText(label)) {
				labels[key] = label;
			}
		}
	}
	return {
		tunnelAccess: isBoolean(value['tunnelAccess']) ? value['tunnelAccess'] : false,
		agents,
		forwards,
		labels,
	};
}

/** The key of a port label. */
export function labelKey(agentId: string, host: string, port: number): string {
	return `${agentId}|${host}:${port}`;
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
