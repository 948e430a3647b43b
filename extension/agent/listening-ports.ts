/**
 * Listening ports reported by an agent (`listeningPorts` answers, `portsChanged` events): validated
 * before use, and kept as one list per agent. Pure, so it is unit-tested.
 */

import { isInteger, isObject, isPort, isString } from '../../protocol/guards';
import type { ListeningPort } from '../../protocol/rpc';
import { formatHostPort } from '../../protocol/host-port';

/** Most ports accepted in one answer or event. */
const MAX_PORTS = 4096;
/** Longest command line kept. */
const MAX_COMMAND_CHARS = 2048;

/** The ports in an untrusted array; invalid entries are dropped. */
export function parseListeningPorts(value: unknown): ListeningPort[] {
	if (!Array.isArray(value)) {
		return [];
	}
	const out: ListeningPort[] = [];
	for (const item of value.slice(0, MAX_PORTS)) {
		if (!isObject(item) || !isString(item['host']) || item['host'].length > 64 || !isPort(item['port'])) {
			continue;
		}
		const pid = item['pid'];
		const command = item['command'];
		out.push({
			host: item['host'],
			port: item['port'],
			...(isInteger(pid, 1) ? { pid } : {}),
			...(isString(command) ? { command: command.slice(0, MAX_COMMAND_CHARS) } : {}),
		});
	}
	return out;
}

/** The `ports` of a `listeningPorts` answer. */
export function parseListeningPortsResult(value: unknown): ListeningPort[] {
	return isObject(value) ? parseListeningPorts(value['ports']) : [];
}

/** A `portsChanged` event's data; undefined if it is not one. */
export function parsePortsChanged(
	value: unknown,
): { added: ListeningPort[]; removed: ListeningPort[] } | undefined {
	if (!isObject(value) || !Array.isArray(value['added']) || !Array.isArray(value['removed'])) {
		return undefined;
	}
	return { added: parseListeningPorts(value['added']), removed: parseListeningPorts(value['removed']) };
}

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
