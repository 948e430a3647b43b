import { randomUUID } from 'node:crypto';
import { RECONNECT_ATTEMPT_TIMEOUT_MS } from '../../protocol/constants';
import type { Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';
import type { AgentAddress } from './agent-url';
import { runClientHandshake, type PeerKind } from './client-handshake';
import { openTransport, type TransportMode } from './open-transport';

/** How to reach and authenticate to one agent: shared by every connection a client opens to it. */
export interface AgentEndpoint {
	readonly address: AgentAddress;
	/** The connection token; undefined for an agent without one. Never logged. */
	readonly token: string | undefined;
	readonly mode: TransportMode;
	readonly peer: PeerKind;
	/** Sent for the agent's version check; undefined skips it. */
	readonly commit?: string;
	readonly timers: Timers;
}

export interface DialOptions {
	readonly connectionType: number;
	readonly args?: unknown;
	/** Defaults to a fresh UUID. */
	readonly reconnectionToken?: string;
	readonly reconnection?: boolean;
	/** Upgrade plus handshake must finish within this (default 30 s). */
	readonly timeoutMs?: number;
}

export interface DialedConnection {
	readonly transport: Transport;
	/** Bytes already read past the handshake; the transport is paused until its owner resumes it. */
	readonly leftover: Uint8Array[];
}

/** Opens one authenticated connection of the given type to an agent. */
export async function dial(endpoint: AgentEndpoint, options: DialOptions): Promise<DialedConnection> {
	const timeoutMs = options.timeoutMs ?? RECONNECT_ATTEMPT_TIMEOUT_MS;
	const { transport, initial } = await openTransport({
		address: endpoint.address,
		mode: endpoint.mode,
		reconnectionToken: options.reconnectionToken ?? randomUUID(),
		reconnection: options.reconnection ?? false,
		timeoutMs,
	});
	const leftover = await runClientHandshake(transport, initial, {
		token: endpoint.token,
		connectionType: options.connectionType,
		args: options.args,
		...(endpoint.commit !== undefined ? { commit: endpoint.commit } : {}),
		peer: endpoint.peer,
		timers: endpoint.timers,
	});
	return { transport, leftover };
}
