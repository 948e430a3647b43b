/**
 * Every message of Berth's Management RPC: JSON objects carried one per Regular message of a
 * Management session (and, later, of a stream session). This file is the one place that
 * declares their shapes and the methods and events both ends speak.
 */

import { isInteger, isObject, isString } from './guards';

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
}

// Method and event tables are type aliases, not interfaces, so they fit MethodTable's index signature.

/** Methods the agent serves, by name: params and result of each. */
export type AgentMethods = {
	ping: { params: { readonly sentAt?: number }; result: { readonly receivedAt: number } };
	serverInfo: { params: Record<string, never>; result: ServerInfo };
};

/** Events the agent sends, by name: their data. */
export type AgentEvents = {
	/** Sent when the agent is shutting down cleanly. */
	shutdown: { readonly reason: string };
};

/** A table of method name → { params, result }. */
export type MethodTable = Record<string, { params: unknown; result: unknown }>;
/** A table of event name → data. */
export type EventTable = Record<string, unknown>;

/** Longest method or event name accepted (Berth's bound). */
const MAX_NAME_CHARS = 128;

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
