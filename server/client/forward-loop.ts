import { formatHostPort } from '../../protocol/host-port';

/**
 * Where a forward listens: on a network (a loopback, named by its identity: see
 * server/shared/network-identity.ts), on some addresses, at a port. Port 0: not chosen yet.
 */
export interface ListenPlace {
	readonly network: string;
	readonly hosts: readonly string[];
	readonly port: number;
}

/**
 * Where a forward's connections go, on the network they are made from: the agent's for -L, this
 * client's for -R. `isLocal`: the host is that network's own (loopback, unspecified, an address
 * or name of that host), so the connection reaches whatever listens on that network at `port`.
 */
export interface TargetPlace {
	readonly network: string;
	readonly host: string;
	readonly port: number;
	readonly isLocal: boolean;
}

/** A forward as the loop check sees it. `label` names it in messages (`127.0.0.1:4000 -> db:5432`). */
export interface ForwardPlaces {
	readonly label: string;
	readonly listen: ListenPlace;
	readonly target: TargetPlace;
}

/**
 * Why `candidate` would make a forwarding loop or chain with this client's forwards, or undefined.
 * A forward must not lead to a listener of this client (its own, or another forward's), and a
 * listener must not open where one of this client's forwards leads: its connections would come
 * back into Berth instead of reaching a service, and one connection could become thousands
 * (the self-target `40677 -> 127.0.0.1:40677` opened 17,684). A target reaches a listener when it
 * is local to the listener's network and has its port, whatever the listener's address: a
 * conservative reading (127.0.0.2 does not reach a listener on 127.0.0.1 alone) that costs a
 * refused forward, never a loop let through.
 */
export function findForwardLoop(
	candidate: ForwardPlaces,
	existing: Iterable<ForwardPlaces>,
): string | undefined {
	const { listen, target } = candidate;
	const to = formatHostPort(target.host, target.port);
	if (reaches(target, listen)) {
		return `${to} is this forward's own listener: the forward would reach itself`;
	}
	for (const other of existing) {
		if (reaches(target, other.listen)) {
			return (
				`${to} is the listener of this client's forward ${other.label}: the forward would reach that ` +
				'forward instead of a service (a forwarding chain or loop)'
			);
		}
		if (reaches(other.target, listen)) {
			return (
				`port ${listen.port} is where this client's forward ${other.label} leads: a listener there ` +
				"would receive that forward's connections (a forwarding chain or loop); pick another port"
			);
		}
	}
	return undefined;
}

/** Whether connections to `target` land on `listen`. */
export function reaches(target: TargetPlace, listen: ListenPlace): boolean {
	return (
		target.isLocal && listen.port !== 0 && target.network === listen.network && target.port === listen.port
	);
}

/** The addresses a bind name listens on (`localhost`: both loopbacks, as `listenLocal` binds it). */
export function bindHosts(bind: string): string[] {
	return bind === 'localhost' ? ['127.0.0.1', '::1'] : [bind];
}
