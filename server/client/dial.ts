import type { Upstream } from '../shared/upstream';
import type { Logger } from '../shared/log';
import { randomUUID } from 'node:crypto';
import { RECONNECT_ATTEMPT_TIMEOUT_MS } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { checkTimerDelay, type Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';
import type { AgentAddress } from './agent-url';
import { runClientHandshake, type PeerKind } from './client-handshake';
import { openTransport, type TransportMode } from './open-transport';
import type { OwnForwards } from './own-forwards';
import type { TlsTrust } from './tls-trust';

/** How to reach and authenticate to one agent: shared by every connection a client opens to it. */
export interface AgentEndpoint {
	readonly address: AgentAddress;
	/** The connection token; undefined for an agent without one. Never logged. */
	readonly token: string | undefined;
	readonly mode: TransportMode;
	readonly peer: PeerKind;
	/** How a `wss://` agent's certificate is checked (default: Node's CA store, and the URL's name). */
	readonly tls?: TlsTrust;
	/** Sent for the agent's version check; undefined skips it. */
	readonly commit?: string;
	/** The agent key a user token's agent must prove it holds (a login's pin from its init URL). */
	readonly agentKeyPin?: string;
	readonly timers: Timers;
	/** Default time for each dial, upgrade plus handshake, every fallback included (default 30 s). */
	readonly connectTimeoutMs?: number;
	/** What this client calls itself: sent in `hello`, shown in the agent's client list. */
	readonly clientName?: string;
	/**
	 * The session's name for people (`--session-name`, or a login's prefix and the host's name):
	 * sent in stream sessions' connection args, shown by the agent beside the signed-in user.
	 */
	readonly sessionName?: string;
	/** Where the library logs what the user may want to know (debug details of egress); none by default. */
	readonly log?: Logger;
	/** The proxy a provider's egress goes through (`berth client -r --upstream`). */
	readonly upstream?: Upstream;
	/**
	 * This client's forwards on every agent, for the loop check and `declareListeners`: one per
	 * client process, shared by all its connections. Each forwarder or link makes its own when absent.
	 */
	readonly own?: OwnForwards;
	/**
	 * A connector's (`berth connector`): once a session was lost, how many more attempts a refusal
	 * of its token gets before the refusal is final. An autonomy agent that restarted knows the
	 * token again only once its provider has reconnected and declared it, which may come just
	 * after the connector's attempt. 0 (the default): a refusal is final at once.
	 */
	readonly tokenRefusalRetries?: number;
}

export interface DialOptions {
	readonly connectionType: number;
	readonly args?: unknown;
	/** Defaults to a fresh UUID. */
	readonly reconnectionToken?: string;
	readonly reconnection?: boolean;
	/** Upgrade plus handshake, every fallback included, must finish within this (default: the endpoint's). */
	readonly timeoutMs?: number;
}

export interface DialedConnection {
	readonly transport: Transport;
	/** Bytes already read past the handshake; the transport is paused until its owner resumes it. */
	readonly leftover: Uint8Array[];
}

/**
 * Opens one authenticated connection of the given type to an agent. In `auto` mode a raw TCP
 * attempt that the path breaks (an answer other than 101, bytes that are not the protocol, a
 * stall) is retried once with WebSocket frames; an agent that answered in words is not retried.
 * One deadline covers it all: the fallback gets what the raw attempt left, so a stalled agent
 * fails after the time the error names, not twice that. (A raw upgrade that gets no answer at
 * all uses the whole time: the WebSocket upgrade is the same HTTP request, it would stall too.)
 */
export async function dial(endpoint: AgentEndpoint, options: DialOptions): Promise<DialedConnection> {
	const timeoutMs = checkTimerDelay(
		'the connect timeout',
		options.timeoutMs ?? endpoint.connectTimeoutMs ?? RECONNECT_ATTEMPT_TIMEOUT_MS,
	);
	const deadline = { at: endpoint.timers.now() + timeoutMs, totalMs: timeoutMs };
	if (endpoint.mode !== 'auto') {
		return dialWith(endpoint, endpoint.mode, options, deadline);
	}
	try {
		return await dialWith(endpoint, 'tcp', options, deadline);
	} catch (error) {
		if (!pathMayBlockRawTcp(error) || deadline.at - endpoint.timers.now() <= 0) {
			throw error;
		}
		try {
			return await dialWith(endpoint, 'websocket', options, deadline);
		} catch {
			throw error; // the raw TCP failure says more about the path
		}
	}
}

/** Whether a failed raw-TCP attempt could succeed over WebSocket frames. */
function pathMayBlockRawTcp(error: unknown): boolean {
	if (!(error instanceof BerthError) || error.isPermanent) {
		return false;
	}
	const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
	if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH') {
		return false; // nothing listens there at all
	}
	return error.code !== 'BERTH_ERR_USAGE';
}

async function dialWith(
	endpoint: AgentEndpoint,
	mode: 'tcp' | 'websocket',
	options: DialOptions,
	deadline: { readonly at: number; readonly totalMs: number },
): Promise<DialedConnection> {
	const { transport, initial } = await openTransport({
		address: endpoint.address,
		mode,
		reconnectionToken: options.reconnectionToken ?? randomUUID(),
		reconnection: options.reconnection ?? false,
		timeoutMs: Math.max(0, Math.ceil(deadline.at - endpoint.timers.now())),
		budgetMs: deadline.totalMs,
		timers: endpoint.timers,
		...(endpoint.tls ? { tls: endpoint.tls } : {}),
	});
	const leftover = await runClientHandshake(transport, initial, {
		token: endpoint.token,
		connectionType: options.connectionType,
		args: options.args,
		...(endpoint.commit !== undefined ? { commit: endpoint.commit } : {}),
		peer: endpoint.peer,
		timers: endpoint.timers,
		deadline: deadline.at,
		...(endpoint.agentKeyPin !== undefined ? { agentKeyPin: endpoint.agentKeyPin } : {}),
	});
	return { transport, leftover };
}
