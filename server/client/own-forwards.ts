import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import {
	parseNetworkIdentity,
	type ClientListener,
	type ListeningPort,
	type ServerInfo,
} from '../../protocol/rpc';
import { computeNetworkIdentity } from '../shared/network-identity';
import { findForwardLoop, type ForwardPlaces } from './forward-loop';

/** A forward's place in the registry, held while the forward lives. */
export interface OwnForwardReservation {
	/** Where it listens now, on the same network (the addresses actually bound, the port an agent chose). */
	listening(hosts: readonly string[], port: number): void;
	/** The forward ended. */
	dispose(): void;
}

/**
 * This client's forwards, on every agent it uses, as places on networks: where each listens and
 * where it leads. One per client process (the CLI makes one; the extension shares one among its
 * connections through `AgentEndpoint.own`), so that:
 * - a forward that would lead to one of this client's listeners, or a listener where one of its
 *   forwards leads, is refused before it opens (BERTH_ERR_LOOP, see `findForwardLoop`);
 * - an agent on this client's loopback is told which of its listening ports are Berth's
 *   (`declareListeners`), and its port lists are read without them.
 */
export class OwnForwards extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<void>());
	/** A forward was reserved, moved or ended. */
	readonly onDidChange = this._onDidChange.event;
	private readonly forwards = new Set<{ places: ForwardPlaces }>();

	/** @param network this client's network identity (the system's by default). */
	constructor(readonly network: string = computeNetworkIdentity()) {
		super();
	}

	/** Why `places` would loop with this client's forwards, or undefined. */
	check(places: ForwardPlaces): string | undefined {
		return findForwardLoop(
			places,
			[...this.forwards].map((f) => f.places),
		);
	}

	/**
	 * Records a forward about to open, after checking it: check and record are one step, so two
	 * forwards opened at once cannot each miss the other.
	 * @throws BerthError BERTH_ERR_LOOP, saying what it would reach.
	 */
	reserve(places: ForwardPlaces): OwnForwardReservation {
		const reason = this.check(places);
		if (reason !== undefined) {
			throw new BerthError('BERTH_ERR_LOOP', reason);
		}
		const entry = { places };
		this.forwards.add(entry);
		this._onDidChange.fire();
		return {
			listening: (hosts, port) => {
				if (this.forwards.has(entry)) {
					entry.places = { ...entry.places, listen: { ...entry.places.listen, hosts, port } };
					this._onDidChange.fire();
				}
			},
			dispose: () => {
				if (this.forwards.delete(entry)) {
					this._onDidChange.fire();
				}
			},
		};
	}

	/**
	 * Records a listener of this client that is not a forward (the extension's tunnel-access agent):
	 * it is declared to agents on this network and left out of their port lists like a forward's,
	 * and no forward may lead to it. It leads nowhere itself, so it never makes a loop of its own.
	 */
	addListener(label: string, hosts: readonly string[], port: number): OwnForwardReservation {
		return this.reserve({
			label,
			listen: { network: this.network, hosts, port },
			target: { network: '', host: '', port: 0, isLocal: false },
		});
	}

	/** Ports this client's forwards lead to on `network`: no listener of this client may take them. */
	targetedPorts(network: string): Set<number> {
		const ports = new Set<number>();
		for (const { places } of this.forwards) {
			if (places.target.isLocal && places.target.network === network) {
				ports.add(places.target.port);
			}
		}
		return ports;
	}

	/** This client's listeners on `network` (what it declares to an agent there), without duplicates. */
	listenersOn(network: string): ClientListener[] {
		const seen = new Map<string, ClientListener>();
		for (const { places } of this.forwards) {
			const { listen } = places;
			if (listen.network === network && listen.port !== 0) {
				for (const host of listen.hosts) {
					seen.set(`${host}|${listen.port}`, { host, port: listen.port });
				}
			}
		}
		return [...seen.values()];
	}

	/**
	 * An agent's listening ports without this client's listeners on its network: the second guard
	 * behind `declareListeners` (an agent that predates it, or a port seen before it was declared).
	 */
	withoutOwnListeners(network: string, ports: readonly ListeningPort[]): ListeningPort[] {
		const own = new Set(this.listenersOn(network).map((l) => l.port));
		return ports.filter((port) => !own.has(port.port));
	}
}

/**
 * The network an agent is on: the identity it reports, or (an agent that predates it, or a VS
 * Code server) a name of its own that no other network has, so nothing counts as shared.
 */
export function agentNetworkOf(info: ServerInfo | undefined, agentDisplay: string): string {
	return parseNetworkIdentity(info?.network) ?? `unknown:${agentDisplay}`;
}
