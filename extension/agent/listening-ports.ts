/**
 * Listening ports reported by an agent, kept as one list per agent (the client library checks
 * `listeningPorts` answers and `portsChanged` events, and leaves this window's listeners out).
 * Pure, so it is unit-tested.
 */

import type { ListeningPort } from '../../protocol/rpc';
import { formatHostPort } from '../../protocol/host-port';

/** Identifies a listening socket: `host:port`. */
export function listeningPortKey(port: Pick<ListeningPort, 'host' | 'port'>): string {
	return formatHostPort(port.host, port.port);
}

/** The list after an event: removed ones dropped, added ones put in (replacing the same socket). */
export function applyPortsChanged(
	current: readonly ListeningPort[],
	change: { added: readonly ListeningPort[]; removed: readonly ListeningPort[] },
): ListeningPort[] {
	const byKey = new Map(current.map((p) => [listeningPortKey(p), p]));
	for (const port of change.removed) {
		byKey.delete(listeningPortKey(port));
	}
	for (const port of change.added) {
		byKey.set(listeningPortKey(port), port);
	}
	return [...byKey.values()].sort((a, b) => a.port - b.port || a.host.localeCompare(b.host));
}

/** Loopback and all-interfaces listeners are the ones a forward from the agent's side can reach. */
export function isForwardableHost(host: string): boolean {
	return ['127.0.0.1', '0.0.0.0', '::1', '::', 'localhost', '0:0:0:0:0:0:0:1', '0:0:0:0:0:0:0:0'].includes(
		host,
	);
}
