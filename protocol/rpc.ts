/**
 * Every message of Berth's RPC: JSON objects carried one per Regular message of a Management
 * session, or one per frame on a stream session's RPC lane. This file is the one place that
 * declares their shapes and the methods and events both ends speak.
 */

import { isArray, isBoolean, isInteger, isObject, isString } from './guards';

/** A call. `id` is unique among the sender's open requests. */
export interface RpcRequest {
	readonly type: 'request';
	readonly id: number;
	readonly method: string;
	readonly params: unknown;
}

/** The successful answer to the request with the same `id`. */
export interface RpcResponse {
	readonly type: 'response';
	readonly id: number;
	readonly result: unknown;
}

/** A failed answer: `code` is a BERTH_ERR_… code, `message` says what went wrong. */
export interface RpcErrorResponse {
	readonly type: 'error';
	readonly id: number;
	readonly error: RpcErrorBody;
}

export interface RpcErrorBody {
	readonly code: string;
	readonly message: string;
}

/** A notification; no answer. */
export interface RpcEvent {
	readonly type: 'event';
	readonly event: string;
	readonly data: unknown;
}

export type RpcMessage = RpcRequest | RpcResponse | RpcErrorResponse | RpcEvent;

/** What `serverInfo` answers. */
export interface ServerInfo {
	/** Berth's version (package.json). */
	readonly version: string;
	/** The build's git commit, or the version when not built from git. */
	readonly commit: string;
	/** The agent host's name. */
	readonly host: string;
	/** Node's `process.platform` on the agent host. */
	readonly platform: string;
	/** Seconds since the agent started. */
	readonly uptime: number;
	/** How long the agent keeps a disconnected session for its client, in ms. */
	readonly reconnectionGraceMs: number;
	/** Clients connected now: Management sessions with a socket, and stream sessions (this one included). */
	readonly clients: number;
	/**
	 * Which loopback the agent is on: a digest of the kernel's boot id and the agent's network
	 * namespace. A client that computes the same value shares the agent's loopback, so its own
	 * listeners are among the agent's listening ports (server/shared/network-identity.ts).
	 * Absent from older agents.
	 */
	readonly network?: string;
}

/** A client connected to the agent, as the agent's owner sees it: who is using my tunnel. */
export interface AgentClientInfo {
	/** The session's id on this agent (for `disconnectClient`). */
	readonly id: string;
	/** A Management session (VS Code's, or Berth's status link) or a stream session (forwards). */
	readonly kind: 'management' | 'streams';
	/** The peer's address, `host:port`. */
	readonly address: string;
	/** What the client calls itself (`hello`), e.g. `alice@laptop (VS Code)`. */
	readonly name?: string;
	/** The signed-in user's email, when the client holds a user token (not the connection token). */
	readonly user?: string;
	/** The session's name (`--session-name`: a login's prefix and the client's host by default). */
	readonly sessionName?: string;
	/** When the session started, ms since 1970 (the agent's wall clock). */
	readonly since: number;
	/** Its reverse forwards on this agent. */
	readonly forwards: readonly ForwardInfo[];
	/** Streams open in it now (stream sessions). */
	readonly streams: number;
	/** The session that asked. */
	readonly isSelf: boolean;
}

/** A listener of a client on the agent's loopback (a client whose `network` matches the agent's). */
export interface ClientListener {
	readonly host: string;
	readonly port: number;
}

/** A TCP port listening on the agent's host (from /proc/net/tcp and tcp6). */
export interface ListeningPort {
	/** The bound address as the kernel reports it: `127.0.0.1`, `0.0.0.0`, `::1`, `::`, … */
	readonly host: string;
	readonly port: number;
	/** The owning process, where readable. */
	readonly pid?: number;
	/** The owning process's command line, where readable. */
	readonly command?: string;
}

/** Which side listens: `local` = the client (ssh -L), `remote` = the agent (ssh -R). */
export type ForwardDirection = 'local' | 'remote';

/** Traffic of one forward so far. */
export interface ForwardCounters {
	/** Connections open now. */
	readonly open: number;
	/** Connections accepted since the forward started. */
	readonly total: number;
	/** Bytes from the target towards the listener's clients. */
	readonly bytesIn: number;
	/** Bytes from the listener's clients towards the target. */
	readonly bytesOut: number;
	/** The last connection failure, e.g. `connect ECONNREFUSED 127.0.0.1:5432`. */
	readonly lastError?: string;
}

export type ForwardState = 'active' | 'failed' | 'closed';

/** One forward, as listed and as sent in `forwardChanged` events. */
export interface ForwardInfo {
	readonly id: string;
	readonly direction: ForwardDirection;
	/** Where the listener is bound (on the client for local, on the agent for remote). */
	readonly bindHost: string;
	readonly bindPort: number;
	/** Where each connection goes (from the agent for local, from the client for remote). */
	readonly targetHost: string;
	readonly targetPort: number;
	readonly state: ForwardState;
	readonly counters: ForwardCounters;
	/** Why the forward failed (state `failed`), e.g. the listen error. */
	readonly error?: string;
}

/** Parameters of `addForward`: a remote (-R) listener on the agent. */
export interface AddForwardParams {
	/** The client's id for it (kept across reconnections); the agent makes one up if absent. */
	readonly id?: string;
	/** Loopback (127.0.0.1) unless given; other addresses need the agent's --allow-remote-bind. */
	readonly bindHost?: string;
	readonly bindPort: number;
	readonly targetHost: string;
	readonly targetPort: number;
}

// Method and event tables are type aliases, not interfaces, so they fit MethodTable's index signature.

/** Methods the agent serves, by name: params and result of each. */
export type AgentMethods = {
	/** `receivedAt`: the agent's wall clock (ms since 1970), to compare with the client's `sentAt`. */
	ping: { params: { readonly sentAt?: number }; result: { readonly receivedAt: number } };
	serverInfo: { params: Record<string, never>; result: ServerInfo };
	/** TCP ports listening on the agent's host now. */
	listeningPorts: { params: Record<string, never>; result: { readonly ports: readonly ListeningPort[] } };
	/** The agent's forwards for this session (remote ones: it holds their listeners). */
	listForwards: { params: Record<string, never>; result: { readonly forwards: readonly ForwardInfo[] } };
	/** Opens a remote (-R) listener on the agent; its connections come back as streams. */
	addForward: { params: AddForwardParams; result: ForwardInfo };
	removeForward: { params: { readonly id: string }; result: Record<string, never> };
	/** The client says what it calls itself (shown to the agent's owner: `listClients`). */
	hello: { params: { readonly name: string }; result: Record<string, never> };
	/** Every client connected now (Management and stream sessions). */
	listClients: { params: Record<string, never>; result: { readonly clients: readonly AgentClientInfo[] } };
	/** Ends a client's session (its streams and reverse forwards with it). */
	disconnectClient: { params: { readonly id: string }; result: Record<string, never> };
	/**
	 * A client on the agent's loopback tells it which ports its own forwards listen on (the whole
	 * set, each time it changes): they are Berth's, not the user's services, so the agent leaves
	 * them out of `listeningPorts` and `portsChanged` for every session.
	 */
	declareListeners: {
		params: { readonly listeners: readonly ClientListener[] };
		result: Record<string, never>;
	};
	/**
	 * Reverse proxy mode: this client is an exit for the agent's proxy port (`berth server -r`).
	 * The agent opens `tcp`/`udp` streams towards it, one per proxied connection, round robin
	 * among its providers (a `via` label picks one by `name`). Refused when the agent runs no
	 * reverse proxy. Lasts as long as the session: a client that reconnects provides again.
	 */
	/**
	 * ssh's dynamic reverse forward (`-R [BIND:]PORT`): a SOCKS5 + HTTP proxy port on the agent
	 * whose connections leave from this client (which must be ready to carry `tcp`/`udp` streams).
	 * Lasts as long as the session.
	 */
	addReverseProxy: {
		params: { readonly bindHost?: string; readonly bindPort: number };
		result: { readonly bindHost: string; readonly bindPort: number };
	};
	provideEgress: {
		/**
		 * `connectorTokens` (autonomy mode only, at most 16): connectors proving one of them reach
		 * this provider and no other; they are forgotten when this session ends.
		 */
		params: { readonly name?: string; readonly connectorTokens?: readonly string[] };
		result: Record<string, never>;
	};
};

/** Events the agent sends, by name: their data. */
export type AgentEvents = {
	/** Sent when the agent is shutting down cleanly. */
	shutdown: { readonly reason: string };
	/**
	 * Listening ports appeared or went away. Sent to sessions that called `listeningPorts` at least
	 * once; the agent polls at most every 2 s, and only while such a session is open.
	 */
	portsChanged: { readonly added: readonly ListeningPort[]; readonly removed: readonly ListeningPort[] };
	/** A remote forward started, failed, ended, or its counters moved. */
	forwardChanged: ForwardInfo;
	/** The number of connected clients changed (sent to every session). */
	clientsChanged: { readonly clients: number };
};

/** A table of method name → { params, result }. */
export type MethodTable = Record<string, { params: unknown; result: unknown }>;
/** A table of event name → data. */
export type EventTable = Record<string, unknown>;

/** Longest method or event name accepted (Berth's bound). */
const MAX_NAME_CHARS = 128;
/** Longest host name in a forward (DNS's bound on a name). */
const MAX_HOST_CHARS = 255;
/** The highest TCP port. */
const MAX_PORT = 65_535;

/** Longest name a client gives itself in `hello` (Berth's bound; longer names are cut). */
export const MAX_CLIENT_NAME_CHARS = 128;
/** Most listeners one session may declare (`declareListeners`): Berth's bound on what it holds per session. */
export const MAX_DECLARED_LISTENERS = 1_024;
/** Longest network identity accepted from a peer (Berth's agents send 32 hex digits). */
const MAX_NETWORK_IDENTITY_CHARS = 128;
/** Most ports accepted in one `listeningPorts` answer or `portsChanged` event (the rest are dropped). */
const MAX_LISTENING_PORTS = 4_096;
/** Longest command line kept of a listening port's process. */
const MAX_COMMAND_CHARS = 2_048;
/** Longest session id or peer address in a client list. */
const MAX_CLIENT_FIELD_CHARS = 300;

const FORWARD_DIRECTIONS: ReadonlySet<unknown> = new Set<ForwardDirection>(['local', 'remote']);
const FORWARD_STATES: ReadonlySet<unknown> = new Set<ForwardState>(['active', 'failed', 'closed']);

/** Validates the envelope of an inbound RPC message. Params, results and data are checked by their owners. */
export function parseRpcMessage(value: unknown): RpcMessage | undefined {
	if (!isObject(value)) {
		return undefined;
	}
	switch (value['type']) {
		case 'request':
			return isInteger(value['id'], 0) && isName(value['method'])
				? { type: 'request', id: value['id'], method: value['method'], params: value['params'] }
				: undefined;
		case 'response':
			return isInteger(value['id'], 0)
				? { type: 'response', id: value['id'], result: value['result'] }
				: undefined;
		case 'error': {
			const error = value['error'];
			return isInteger(value['id'], 0) &&
				isObject(error) &&
				isString(error['code']) &&
				isString(error['message'])
				? { type: 'error', id: value['id'], error: { code: error['code'], message: error['message'] } }
				: undefined;
		}
		case 'event':
			return isName(value['event'])
				? { type: 'event', event: value['event'], data: value['data'] }
				: undefined;
		default:
			return undefined;
	}
}

function isName(value: unknown): value is string {
	return isString(value) && value.length > 0 && value.length <= MAX_NAME_CHARS;
}

/** A ForwardInfo from the peer (a `forwardChanged` event, a forward list), checked field by field. */
export function isForwardInfo(value: unknown): value is ForwardInfo {
	return (
		isObject(value) &&
		isString(value['id']) &&
		FORWARD_DIRECTIONS.has(value['direction']) &&
		isHost(value['bindHost']) &&
		isInteger(value['bindPort'], 0, MAX_PORT) &&
		isHost(value['targetHost']) &&
		isInteger(value['targetPort'], 0, MAX_PORT) &&
		FORWARD_STATES.has(value['state']) &&
		isForwardCounters(value['counters']) &&
		isOptionalString(value['error'])
	);
}

function isForwardCounters(value: unknown): value is ForwardCounters {
	return (
		isObject(value) &&
		isInteger(value['open'], 0) &&
		isInteger(value['total'], 0) &&
		isInteger(value['bytesIn'], 0) &&
		isInteger(value['bytesOut'], 0) &&
		isOptionalString(value['lastError'])
	);
}

/** A `ServerInfo.network` from the peer: letters, digits, `-` and `_`, bounded; anything else reads as absent. */
export function parseNetworkIdentity(value: unknown): string | undefined {
	return isString(value) && value.length <= MAX_NETWORK_IDENTITY_CHARS && /^[\w-]+$/.test(value)
		? value
		: undefined;
}

/** A listener a client declares (`declareListeners` params), checked field by field. */
export function isClientListener(value: unknown): value is ClientListener {
	return isObject(value) && isHost(value['host']) && isInteger(value['port'], 1, MAX_PORT);
}

/** An AgentClientInfo from the peer (a `listClients` answer), checked field by field. */
export function isAgentClientInfo(value: unknown): value is AgentClientInfo {
	return (
		isObject(value) &&
		isBoundedString(value['id'], MAX_CLIENT_FIELD_CHARS) &&
		(value['kind'] === 'management' || value['kind'] === 'streams') &&
		isBoundedString(value['address'], MAX_CLIENT_FIELD_CHARS) &&
		(value['name'] === undefined || isBoundedString(value['name'], MAX_CLIENT_NAME_CHARS)) &&
		isInteger(value['since'], 0) &&
		isArray(value['forwards']) &&
		value['forwards'].every(isForwardInfo) &&
		isInteger(value['streams'], 0) &&
		isBoolean(value['isSelf'])
	);
}

/** The clients of a `listClients` answer, or undefined when the answer is not one. */
export function parseListClientsResult(value: unknown): AgentClientInfo[] | undefined {
	if (!isObject(value) || !isArray(value['clients']) || !value['clients'].every(isAgentClientInfo)) {
		return undefined;
	}
	return [...value['clients']];
}

/** The ports of an untrusted array: entries that are not a ListeningPort are dropped. */
export function parseListeningPorts(value: unknown): ListeningPort[] {
	if (!isArray(value)) {
		return [];
	}
	const out: ListeningPort[] = [];
	for (const item of value.slice(0, MAX_LISTENING_PORTS)) {
		if (
			!isObject(item) ||
			!isBoundedString(item['host'], MAX_HOST_CHARS) ||
			!isInteger(item['port'], 1, MAX_PORT)
		) {
			continue;
		}
		const { pid, command } = item;
		out.push({
			host: item['host'],
			port: item['port'],
			...(isInteger(pid, 1) ? { pid } : {}),
			...(isString(command) ? { command: command.slice(0, MAX_COMMAND_CHARS) } : {}),
		});
	}
	return out;
}

/** A `portsChanged` event's data, or undefined when it is not one. */
export function parsePortsChanged(value: unknown): AgentEvents['portsChanged'] | undefined {
	if (!isObject(value) || !isArray(value['added']) || !isArray(value['removed'])) {
		return undefined;
	}
	return { added: parseListeningPorts(value['added']), removed: parseListeningPorts(value['removed']) };
}

function isBoundedString(value: unknown, max: number): value is string {
	return isString(value) && value.length <= max;
}

function isHost(value: unknown): value is string {
	return isString(value) && value.length <= MAX_HOST_CHARS;
}

function isOptionalString(value: unknown): value is string | undefined {
	return value === undefined || isString(value);
}
