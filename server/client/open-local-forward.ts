import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import type { LocalForwardSpec } from './forward-spec';
import { bindHosts, type ForwardPlaces, type TargetPlace } from './forward-loop';
import { listenLocal } from './local-listener';
import type { OwnForwardReservation, OwnForwards } from './own-forwards';

/** Ports tried when the caller asked for any: the system's pick, skipping ports a forward leads to. */
const MAX_PORT_PICKS = 8;

export interface OpenLocalForwardOptions<T> {
	readonly spec: LocalForwardSpec;
	readonly own: OwnForwards;
	/** Where its connections go, on the agent's network. */
	readonly target: TargetPlace;
	/** Resolves once the agents on this client's loopback have been told of the listener about to open. */
	readonly declared: () => Promise<void>;
	/**
	 * Opens the listener for `spec` (its port chosen), which takes over `reservation`: it updates
	 * it with the addresses bound, and disposes it when the forward ends.
	 */
	readonly listen: (spec: LocalForwardSpec, reservation: OwnForwardReservation) => Promise<T>;
}

/**
 * Opens a -L forward that cannot loop: its port is chosen (the system's pick, but never a port
 * one of this client's forwards leads to) where the caller asked for any, the forward is checked
 * against this client's others and recorded before it listens, and agents on this client's
 * loopback hear of the listener before it exists, so none of them ever lists it as a service.
 * @throws BerthError BERTH_ERR_LOOP (with what it would reach), BERTH_ERR_LISTEN.
 */
export async function openLocalForward<T>(options: OpenLocalForwardOptions<T>): Promise<T> {
	const { spec, own, target } = options;
	for (let attempt = 1; ; attempt++) {
		const port = spec.localPort !== 0 ? spec.localPort : await pickPort(spec.bind, avoidedPorts(own, target));
		const chosen = { ...spec, localPort: port };
		const reservation = own.reserve(localPlaces(own, chosen, target));
		try {
			await options.declared();
			return await options.listen(chosen, reservation);
		} catch (error) {
			reservation.dispose();
			// A port the system picked may be taken between the pick and the listen: pick again.
			if (spec.localPort === 0 && attempt < MAX_PORT_PICKS && isPortTaken(error)) {
				continue;
			}
			throw error;
		}
	}
}

/** What the loop check sees of a -L forward. */
export function localPlaces(own: OwnForwards, spec: LocalForwardSpec, target: TargetPlace): ForwardPlaces {
	return {
		label: `${formatHostPort(spec.bind, spec.localPort)} -> ${formatHostPort(target.host, target.port)}`,
		listen: { network: own.network, hosts: bindHosts(spec.bind), port: spec.localPort },
		target,
	};
}

/** Ports a new listener here must not take: where this client's forwards (this one included) lead. */
function avoidedPorts(own: OwnForwards, target: TargetPlace): Set<number> {
	const ports = own.targetedPorts(own.network);
	if (target.isLocal && target.network === own.network) {
		ports.add(target.port);
	}
	return ports;
}

/**
 * A free port on `bind` that is not in `avoid`: the system picks, and a pick to avoid stays held
 * while it picks again, so it cannot come back.
 * @throws BerthError BERTH_ERR_LISTEN when nothing can listen on `bind`, or every pick was avoided.
 */
async function pickPort(bind: string, avoid: ReadonlySet<number>): Promise<number> {
	const held = [];
	try {
		for (let i = 0; i < MAX_PORT_PICKS; i++) {
			const probe = await listenLocal(bind, 0, (socket) => socket.destroy());
			held.push(probe);
			if (!avoid.has(probe.port)) {
				return probe.port;
			}
		}
	} finally {
		for (const probe of held) {
			probe.dispose();
		}
	}
	throw new BerthError(
		'BERTH_ERR_LISTEN',
		`cannot listen on ${formatHostPort(bind, 0)}: every port the system offered is one this client's forwards lead to`,
	);
}

function isPortTaken(error: unknown): boolean {
	const cause = error instanceof BerthError ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
	return cause?.code === 'EADDRINUSE';
}
