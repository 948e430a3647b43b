/**
 * Every message between the Remote Port Forwarding webview and the extension, and the row context
 * that the webview's context menus hand to commands. Both bundles import this file; no other file
 * declares a message shape. The contract:
 *
 *     webview                        extension
 *       │  ready ───────────────────────▶ │   (the host queues nothing before this)
 *       │ ◀─────────────────── snapshot   │   full state: agents, rows, notice
 *       │ ◀────────────────────── patch   │   rows upserted/removed (≥ 1/s while traffic moves)
 *       │ ◀───────────────────── reveal   │   focus this row (PortsViewProvider.reveal)
 *       │  forwardDetected, stopForwarding, openInBrowser, previewInEditor, copyLocalAddress,
 *       │  stopProxy, copyProxyAddress, setLabel, forwardPort, turnOnTunnelAccess, connect,
 *       │  disconnect, reconnect, signIn ──────────────────────────────────────────────────▶ │
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
	/** "This machine", or the agent's URL. */
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
	/** Whom this window is signed in as there (a user token's email); absent with a connection token. */
	readonly user?: string;
	/** The agent refused the token for good (revoked, expired): the line offers Sign In, not Reconnect. */
	readonly needsSignIn?: boolean;
}

/** Who started a forward: the user, or auto-forwarding when the agent reported a new port. */
export type PortOrigin = 'user' | 'auto';

/**
 * What a row is: a local forward (-L: listens here, reaches a port of the agent's side), a
 * reverse forward (-R: the agent listens, its connections reach a port on this side), a proxy
 * port (SOCKS5 and HTTP: here, or on the agent), or a port listening on the agent that no
 * forward reaches. Switch on `kind` exhaustively.
 */
export type PortRowKind = 'local' | 'remote' | 'proxy' | 'detected';

/** Whether a forward runs: `failed` means its listener is gone (it could not listen, or stopped). */
export type ForwardRowState = 'active' | 'failed';

/**
 * Why a forward row needs the user's eye, most serious first. `reconnecting`: the link to the
 * agent dropped and the agent holds the session, so the row's connections wait and go on.
 */
export type RowProblemKind =
	'forwardFailed' | 'agentOffline' | 'reconnecting' | 'noListener' | 'connectionFailed';

/** What is wrong with a forward, in the user's words, with the agent's own reason where it gave one. */
export interface RowProblem {
	readonly kind: RowProblemKind;
	/** "Nothing is listening on 42481 on vm (connect ECONNREFUSED 127.0.0.1:42481)". */
	readonly message: string;
}

/** What every row has. */
interface RowBase {
	/** Stable across updates (`rowKeyOf` in extension/ports/ports-model.ts). */
	readonly key: string;
	readonly agentId: string;
	/** The port that the row is about: as the agent sees it (local, detected), or on this side (remote). */
	readonly host: string;
	readonly port: number;
	/** The user's label, else one from `berth.portsAttributes`. */
	readonly label?: string;
}

/** What a forward row has on top: who made it, its counters and its health. */
interface ForwardBase extends RowBase {
	readonly forwardId: string;
	readonly origin: PortOrigin;
	readonly state: ForwardRowState;
	/** Connections open now and accepted in total. */
	readonly openConnections: number;
	readonly totalConnections: number;
	/** Bytes from the target towards the clients (↓), and back (↑). */
	readonly bytesIn: number;
	readonly bytesOut: number;
	/** Bytes per second each way, over the last few seconds (0 when idle). */
	readonly rateIn: number;
	readonly rateOut: number;
	/** The last connection failure as the agent reported it (kept even after later successes). */
	readonly lastError?: string;
	readonly problem?: RowProblem;
}

/** A local forward (-L): the port of the agent's side, reachable here. */
export interface LocalForwardRow extends ForwardBase {
	readonly kind: 'local';
	/** Where it listens here, `127.0.0.1:40259`. */
	readonly localAddress: string;
	/** The address that opens it from this window (VS Code's `asExternalUri`), once known. */
	readonly url?: string;
	/** The target's process on the agent (command line and pid), where the agent could read it. */
	readonly process?: string;
}

/** A reverse forward (-R): the agent listens at `agentAddress`; connections reach host:port here. */
export interface RemoteForwardRow extends ForwardBase {
	readonly kind: 'remote';
	/** Where the agent listens, `127.0.0.1:8080` (on the agent's host). */
	readonly agentAddress: string;
}

/**
 * How a proxy row works: `socks` listens on this machine and its traffic leaves from the agent
 * (Start SOCKS Proxy, `berth forward -D`); `share` listens on the agent and its traffic leaves
 * from this machine (Share This Machine's Network, `berth forward -R PORT`).
 */
export type ProxyRowMode = 'socks' | 'share';

/**
 * A proxy port (SOCKS5 and HTTP on one port). `host`/`port` are where it listens: on this
 * machine (`socks`) or on the agent's host (`share`); `forwardId` is the proxy's id.
 */
export interface ProxyRow extends ForwardBase {
	readonly kind: 'proxy';
	readonly mode: ProxyRowMode;
	/** Where traffic through it leaves: the agent's name (`socks`), or `this machine` (`share`). */
	readonly exit: string;
}

/** A port listening on the agent that no forward reaches yet. */
export interface DetectedPortRow extends RowBase {
	readonly kind: 'detected';
	readonly process?: string;
}

/** One line of the table. */
export type PortRow = LocalForwardRow | RemoteForwardRow | ProxyRow | DetectedPortRow;

/** A row with counters: a forward (local or remote) or a proxy. */
export type ForwardRow = LocalForwardRow | RemoteForwardRow | ProxyRow;

/** Everything the panel shows. */
export interface PortsViewState {
	readonly agents: readonly AgentRow[];
	readonly rows: readonly PortRow[];
	/** Said above everything when it matters (Restricted Mode). */
	readonly notice?: string;
}

/** Host → webview: the whole state; sent after `ready` and whenever agents, the notice or the row order change. */
export interface SnapshotToWebview {
	readonly type: 'snapshot';
	readonly state: PortsViewState;
}

/** Host → webview: rows that changed (new values) and rows that are gone, by key. */
export interface PatchToWebview {
	readonly type: 'patch';
	readonly upserted: readonly PortRow[];
	readonly removed: readonly string[];
}

/** Host → webview: give this row the keyboard focus (now, or as soon as it is drawn). */
export interface RevealToWebview {
	readonly type: 'reveal';
	readonly key: string;
}

/** Every message from the extension to the webview. */
export type ToWebview = SnapshotToWebview | PatchToWebview | RevealToWebview;

/** Identifies a forward of one agent. */
export interface ForwardRef {
	readonly agentId: string;
	readonly forwardId: string;
}

/** Every message from the webview to the extension (validated by `parseFromWebview`). */
export type FromWebview =
	/** The script runs and listens: send the snapshot. */
	| { readonly type: 'ready' }
	/** "Forward a Port...": the host asks which. */
	| { readonly type: 'forwardPort' }
	/** The welcome view's "Turn On Tunnel Access". */
	| { readonly type: 'turnOnTunnelAccess' }
	/** The one-click Forward of a detected port. */
	| {
			readonly type: 'forwardDetected';
			readonly agentId: string;
			readonly host: string;
			readonly port: number;
	  }
	| ({ readonly type: 'stopForwarding' } & ForwardRef)
	| ({ readonly type: 'openInBrowser' } & ForwardRef)
	| ({ readonly type: 'previewInEditor' } & ForwardRef)
	| ({ readonly type: 'copyLocalAddress' } & ForwardRef)
	/** A proxy row's Stop and Copy (`forwardId` is the proxy's id). */
	| ({ readonly type: 'stopProxy' } & ForwardRef)
	| ({ readonly type: 'copyProxyAddress' } & ForwardRef)
	/** Set Port Label: the host asks for the label. */
	| { readonly type: 'setLabel'; readonly agentId: string; readonly host: string; readonly port: number }
	| { readonly type: 'connect' }
	| { readonly type: 'disconnect'; readonly agentId: string }
	| { readonly type: 'reconnect'; readonly agentId: string }
	/** An agent whose token was revoked or expired: Connect with Init URL... for it. */
	| { readonly type: 'signIn'; readonly agentId: string };

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
		case 'turnOnTunnelAccess':
		case 'connect':
			return { type };
		case 'disconnect':
		case 'reconnect':
		case 'signIn':
			return isText(value['agentId']) ? { type, agentId: value['agentId'] } : undefined;
		case 'stopForwarding':
		case 'openInBrowser':
		case 'previewInEditor':
		case 'copyLocalAddress':
		case 'stopProxy':
		case 'copyProxyAddress':
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

/**
 * What a row's `webviewSection` is, in `webview/context` menu `when` clauses: `forward` a local
 * forward, `remoteForward` a reverse one, `proxy` a proxy port (its id in `berthForwardId`),
 * `detected` a detected port, `agent` a remote agent, `localAgent` this machine's agent (tunnel
 * access).
 */
export type RowSection = 'forward' | 'remoteForward' | 'proxy' | 'detected' | 'agent' | 'localAgent';

const ROW_SECTIONS: ReadonlySet<unknown> = new Set<RowSection>([
	'forward',
	'remoteForward',
	'proxy',
	'detected',
	'agent',
	'localAgent',
]);

/**
 * What a row puts in `data-vscode-context`: VS Code passes it (merged with its own keys) to the
 * command chosen from the row's context menu, and each row command takes it as its first argument.
 */
export interface RowContext {
	readonly webviewSection: RowSection;
	readonly berthAgentId: string;
	readonly berthForwardId?: string;
	readonly berthHost?: string;
	readonly berthPort?: number;
	/** The agent's status (agent rows), for `when` clauses only: Reconnect shows when it is not `connected`. */
	readonly berthAgentStatus?: AgentStatus;
	/** Hides Cut/Copy/Paste from the row's menu. */
	readonly preventDefaultContextMenuItems: true;
}

/** Narrows a command argument that came from a row's context menu; undefined otherwise. */
export function parseRowContext(value: unknown): RowContext | undefined {
	if (!isObject(value) || !isText(value['berthAgentId'])) {
		return undefined;
	}
	const section = value['webviewSection'];
	if (!ROW_SECTIONS.has(section)) {
		return undefined;
	}
	const forwardId = value['berthForwardId'];
	const host = value['berthHost'];
	const port = value['berthPort'];
	return {
		webviewSection: section as RowSection,
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
