/**
 * Who is using my tunnel: the local agent's `listClients` answer (checked by the client library)
 * without this window's own sessions, grouped so that one VS Code window (its stream session and
 * one per shared-network port, all named in `hello`) is one client. Pure, so it is unit-tested;
 * the quick pick in extension/commands/tunnel-clients.ts shows the result.
 */

import { formatHostPort } from '../../protocol/host-port';
import type { AgentClientInfo, ForwardInfo } from '../../protocol/rpc';

/** One client of the tunnel: the sessions of one peer that named itself, or one unnamed session. */
export interface TunnelClient {
	/** What the client calls itself (`hello`), when it did. */
	readonly name?: string;
	/** Where it comes from, `host:port` of its first session. */
	readonly address: string;
	/** When its first session started (ms since 1970, the agent's clock). */
	readonly since: number;
	/** Its sessions on the agent: Disconnect ends them all. */
	readonly sessionIds: readonly string[];
	/** Its reverse forwards on the agent. */
	readonly forwards: readonly ForwardInfo[];
	/** Connections it has open through the tunnel now. */
	readonly streams: number;
}

/**
 * The clients other than this window (the session that asked, and sessions named `ownName`),
 * one per named peer and host, oldest first.
 */
export function groupTunnelClients(clients: readonly AgentClientInfo[], ownName: string): TunnelClient[] {
	const groups = new Map<string, TunnelClient>();
	for (const client of clients) {
		if (client.isSelf || client.name === ownName) {
			continue;
		}
		const key = client.name !== undefined ? `${client.name}@${hostOf(client.address)}` : `#${client.id}`;
		const group = groups.get(key);
		groups.set(
			key,
			group
				? {
						...group,
						...(client.since < group.since ? { since: client.since, address: client.address } : {}),
						sessionIds: [...group.sessionIds, client.id],
						forwards: [...group.forwards, ...client.forwards],
						streams: group.streams + client.streams,
					}
				: {
						...(client.name !== undefined ? { name: client.name } : {}),
						address: client.address,
						since: client.since,
						sessionIds: [client.id],
						forwards: client.forwards,
						streams: client.streams,
					},
		);
	}
	return [...groups.values()].sort((a, b) => a.since - b.since);
}

/** A client as a quick pick item shows it. */
export interface TunnelClientText {
	readonly label: string;
	readonly description: string;
	readonly detail: string;
}

/** "alice@laptop (VS Code)", "from 10.0.0.5:51234", "connected for 12 min · forwards 9000 → its 3000 · 2 connections open". */
export function describeTunnelClient(client: TunnelClient, now: number): TunnelClientText {
	const parts = [`connected for ${formatDuration(now - client.since)}`];
	const forwards = client.forwards.filter((f) => f.state !== 'closed');
	if (forwards.length > 0) {
		parts.push(
			`forwards ${forwards
				.map((f) => `${f.bindPort} → its ${formatHostPort(f.targetHost, f.targetPort)}`)
				.join(', ')}`,
		);
	}
	parts.push(client.streams === 1 ? '1 connection open' : `${client.streams} connections open`);
	return {
		label: client.name ?? client.address,
		description: client.name !== undefined ? `from ${client.address}` : '',
		detail: parts.join(' · '),
	};
}

/** `45 s`, `12 min`, `3 h`, `2 days`: how long, to the unit that matters. */
export function formatDuration(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) {
		return `${seconds} s`;
	}
	if (seconds < 3600) {
		return `${Math.floor(seconds / 60)} min`;
	}
	if (seconds < 48 * 3600) {
		return `${Math.floor(seconds / 3600)} h`;
	}
	return `${Math.floor(seconds / 86400)} days`;
}

/** The host of `host:port` or `[v6]:port`. */
function hostOf(address: string): string {
	const bracketed = /^\[([^\]]+)\]/.exec(address);
	return bracketed ? bracketed[1]! : address.replace(/:\d+$/, '');
}
