import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { Timers } from '../../protocol/timers';
import { isLoopbackAddress } from '../shared/loopback-address';
import { isUnspecifiedAddress } from '../shared/target-policy';
import type { TargetPlace } from './forward-loop';

/** How long a name may take to resolve before the loop check treats it as not this host's. */
const LOCALITY_LOOKUP_TIMEOUT_MS = 2_000;

/** What a host on some network is known by: enough to tell whether a target is that host itself. */
export interface LocalityContext {
	/** The host's names, besides `localhost` and `*.localhost` (compared without case). */
	readonly names: readonly string[];
	/** The addresses of its interfaces. */
	readonly addresses: readonly string[];
	/** Resolves other names (only on this client's own host); absent: they are not its own. */
	readonly lookup?: (host: string) => Promise<readonly string[]>;
}

/**
 * The address a host literal stands for: an IP address as written (brackets dropped), or an IPv4
 * address in one of the short forms the system's resolver accepts (`0`, `127.1`, `0x7f.1`, read
 * as the WHATWG URL parser reads them); undefined for a name.
 */
export function literalAddress(host: string): string | undefined {
	const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
	if (isIP(bare) !== 0) {
		return bare;
	}
	if (!/^[0-9a-fx.]+$/i.test(bare)) {
		return undefined;
	}
	try {
		const parsed = new URL(`http://${bare}/`).hostname;
		return isIP(parsed) === 4 ? parsed : undefined;
	} catch {
		return undefined;
	}
}

/** Whether connecting to `address` on that host reaches the host itself. */
export function isOwnAddress(address: string, context: LocalityContext): boolean {
	if (isLoopbackAddress(address) || isUnspecifiedAddress(address)) {
		return true;
	}
	const own = new BlockList();
	for (const candidate of context.addresses) {
		const family = isIP(candidate);
		if (family !== 0) {
			own.addAddress(candidate, family === 4 ? 'ipv4' : 'ipv6');
		}
	}
	const family = isIP(address);
	return family !== 0 && own.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a forward's target host is the host it is reached from (see `LocalityContext`): then
 * the connection lands on whatever listens there at the target's port.
 */
export async function isLocalTarget(host: string, context: LocalityContext): Promise<boolean> {
	const address = literalAddress(host);
	if (address !== undefined) {
		return isOwnAddress(address, context);
	}
	const name = host.toLowerCase().replace(/\.$/, '');
	if (name === 'localhost' || name.endsWith('.localhost')) {
		return true;
	}
	if (context.names.some((own) => own.toLowerCase() === name)) {
		return true;
	}
	const addresses = context.lookup ? await context.lookup(name).catch(() => []) : [];
	return addresses.some((a) => isOwnAddress(a, context));
}

/** This client's own host: its name, its interfaces' addresses, and the system resolver. */
export function clientLocality(timers: Timers): LocalityContext {
	const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
	return { names: [hostname()], addresses, lookup: (name) => lookupWithin(name, timers) };
}

/** Another host, known only by the name it reports (an agent's `serverInfo.host`). */
export function remoteLocality(name: string | undefined): LocalityContext {
	return { names: name ? [name] : [], addresses: [] };
}

/** Every address of `name`, or none if the resolver does not answer in time. */
function lookupWithin(name: string, timers: Timers): Promise<readonly string[]> {
	return new Promise((resolve) => {
		const timer = timers.timeout(() => resolve([]), LOCALITY_LOOKUP_TIMEOUT_MS);
		lookup(name, { all: true }).then(
			(answers) => {
				timer.dispose();
				resolve(answers.map((a) => a.address));
			},
			() => {
				timer.dispose();
				resolve([]);
			},
		);
	});
}

/** Where a forward's target is: which network its connections are made on, and whether it is that host. */
export interface TargetWhere {
	/** The network the connection is made on: this client's for -R, the agent's for -L. */
	readonly network: string;
	/** This client's network identity. */
	readonly clientNetwork: string;
	readonly timers: Timers;
	/** The name the agent reports (`serverInfo.host`), for targets on another network. */
	readonly agentHost?: string;
}

/** A forward's target as the loop check sees it (see `TargetPlace`). */
export async function targetPlace(host: string, port: number, where: TargetWhere): Promise<TargetPlace> {
	const context =
		where.network === where.clientNetwork ? clientLocality(where.timers) : remoteLocality(where.agentHost);
	return { network: where.network, host, port, isLocal: await isLocalTarget(host, context) };
}
