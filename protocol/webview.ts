/**
 * Every message between the Remote Port Forwarding webview and the extension, and the row context
 * that the webview's context menus hand to commands. Both bundles import this file; no other file
 * declares a message shape. The contract:
 *
 *     webview                        extension
 *       │  ready ───────────────────────▶ │   (the host queues nothing before this)
 *       │ ◀─────────────────── snapshot   │   full state: agents, rows, flags
 *       │ ◀────────────────────── patch   │   rows upserted/removed, agents replaced (≥ 1/s while traffic moves)
 *       │  forwardDetected, stopForwarding, openInBrowser, copyLocalAddress, setLabel,
 *       │  forwardPort, connect, disconnect, reconnect ─────▶ │
 *
 * Messages from the webview are untrusted input: the host narrows each through `parseFromWebview`.
 */

import { isInteger, isObject, isPort, isString } from './guards';

/** The webview view's id (package.json `contributes.views`, and `webviewId` in `when` clauses). */
export const PORTS_VIEW_ID = 'berth.portsView';

/** Longest id, host or label accepted from the webview. */
const MAX_TEXT_CHARS = 512;

/** Where a connection to one agent stands. */
export type AgentStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed';

/** One agent this window is connected to (the local one included), as the panel shows it. */
export interface AgentRow {
	/** `local` for the agent this window started, else the agent URL without secrets. */
	readonly id: string;
	/** "This machine" or `host:port`. */
	readonly label: string;
	/** The agent URL without secrets, e.g. `ws://127.0.0.1:8765`. */
	readonly url: string;
	readonly isLocal: boolean;
	/** `vscode` for a VS Code server (its identity cannot be verified). */
	readonly peer: 'berth' | 'vscode';
	readonly status: AgentStatus;
	/** What the status means right now: "reconnecting in 5 s (attempt 2)", the failure, the host name. */
	readonly detail: string;
	/** False while the agent cannot report its listening ports (older agents, VS Code servers). */
	readonly detectsPorts: boolean;
}

/** Who started a forward: the user, or auto-forwarding when the agent reported a new port. */
export type PortOrigin = 'user' | 'auto';

/** `detected`: listening on the agent, not forwarded. */
export type PortRowState = 'active' | 'failed' | 'detected';

/** One line of the table: a forward, or a detected port that is not forwarded. */
export interface PortRow {
	/** Stable across updates: `agentId|f|forwardId` or `agentId|d|host:port`. */
	readonly key: string;
	readonly agentId: string;
	readonly forwardId?: string;
	/** The target as the agent sees it. */
	readonly host: string;
	readonly port: number;
	/** The user's label, else one from `berth.portsAttributes`. */
	readonly label?: string;
	/** Where it is reachable here, `127.0.0.1:3000` (forwards only). */
	readonly localAddress?: string;
	/** The owning process's command line and pid, where the agent could read them. */
	readonly process?: string;
	readonly origin?: PortOrigin;
	/** Connections open now and accepted in total. */
	readonly openConnections: number;
	readonly totalConnections: number;
	/** Bytes from the target to local clients, and back. */
	readonly bytesIn: number;
	readonly bytesOut: number;
	readonly state: PortRowState;
	/** Why it failed, or its last connection error. */
	readonly error?: string;
}

/** Everything the panel shows. */
export interface PortsViewState {
	readonly agents: readonly AgentRow[];
	readonly rows: readonly PortRow[];
	/** A line above the table when something needs saying (Restricted Mode, no agent connected). */
	readonly notice?: string;
}

/** Host → webview: the whole state; sent after `ready` and whenever agents or the notice change. */
export interface SnapshotToWebview {
	readonly type: 'snapshot';
	readonly state: PortsViewState;
}

/** Host → webview: rows that changed (added or new values) and rows that are gone, by key. */
export interface PatchToWebview {
	readonly type: 'patch';
	readonly upserted: readonly PortRow[];
	readonly removed: readonly string[];
}

/** Every message from the extension to the webview. */
export type ToWebview = SnapshotToWebview | PatchToWebview;

/** Identifies a forward of one agent. */
export interface ForwardRef {
	readonly agentId: string;
	readonly forwardId: string;
}

/** Every message from the webview to the extension (validated by `parseFromWebview`). */
export type FromWebview =
	/** The script runs and listens: send the snapshot. */
	| { readonly type: 'ready' }
	/** "Forward a Port": the host asks which. */
	| { readonly type: 'forwardPort' }
	/** The one-click Forward of a detected port. */
	| {
			readonly type: 'forwardDetected';
			readonly agentId: string;
			readonly host: string;
			readonly port: number;
	  }
	| ({ readonly type: 'stopForwarding' } & ForwardRef)
	| ({ readonly type: 'openInBrowser' } & ForwardRef)
	| ({ readonly type: 'copyLocalAddress' } & ForwardRef)
	/** Set Port Label: the host asks for the label. */
	| { readonly type: 'setLabel'; readonly agentId: string; readonly host: string; readonly port: number }
	| { readonly type: 'connect' }
	| { readonly type: 'disconnect'; readonly agentId: string }
	| { readonly type: 'reconnect'; readonly agentId: string };

/** The `type` of a message from the webview. */
export type FromWebviewType = FromWebview['type'];

/** Narrows an untrusted message from the webview; undefined if it is not one of ours. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
	if (!isObject(value) || !isString(value['type'])) {
		return undefined;
	}
	const type = value['type'];
	switch (type) {
		case 'ready':
		case 'forwardPort':
		case 'connect':
			return { type };
		case 'disconnect':
		case 'reconnect':
			return isText(value['agentId']) ? { type, agentId: value['agentId'] } : undefined;
		case 'stopForwarding':
		case 'openInBrowser':
		case 'copyLocalAddress':
			return isText(value['agentId']) && isText(value['forwardId'])
				? { type, agentId: value['agentId'], forwardId: value['forwardId'] }
				: undefined;
		case 'forwardDetected':
		case 'setLabel':
			return isText(value['agentId']) && isText(value['host']) && isPort(value['port'])
				? { type, agentId: value['agentId'], host: value['host'], port: value['port'] }
				: undefined;
		default:
			return undefined;
	}
}

/** What a row's `webviewSection` is, in `webview/context` menu `when` clauses. */
export type RowSection = 'forward' | 'detected' | 'agent';

/**
 * What a row puts in `data-vscode-context`: VS Code passes it (merged with its own keys) to the
 * command chosen from the row's context menu.
 */
export interface RowContext {
	readonly webviewSection: RowSection;
	readonly berthAgentId: string;
	readonly berthForwardId?: string;
	readonly berthHost?: string;
	readonly berthPort?: number;
	/** Hides Cut/Copy/Paste from the row's menu. */
	readonly preventDefaultContextMenuItems: true;
}

/** Narrows a command argument that came from a row's context menu; undefined otherwise. */
export function parseRowContext(value: unknown): RowContext | undefined {
	if (!isObject(value) || !isText(value['berthAgentId'])) {
		return undefined;
	}
	const section = value['webviewSection'];
	if (section !== 'forward' && section !== 'detected' && section !== 'agent') {
		return undefined;
	}
	const forwardId = value['berthForwardId'];
	const host = value['berthHost'];
	const port = value['berthPort'];
	return {
		webviewSection: section,
		berthAgentId: value['berthAgentId'],
		...(isText(forwardId) ? { berthForwardId: forwardId } : {}),
		...(isText(host) ? { berthHost: host } : {}),
		...(isInteger(port, 1, 65535) ? { berthPort: port } : {}),
		preventDefaultContextMenuItems: true,
	};
}

function isText(value: unknown): value is string {
	return isString(value) && value.length > 0 && value.length <= MAX_TEXT_CHARS;
}
