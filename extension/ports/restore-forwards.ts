import { errorMessage } from '../../protocol/errors';
import type { ConnectionRegistry } from '../agent/connection-registry';
import type { ExtensionLogger } from '../logger';
import { formatHostPort } from './forward-input';
import type { Forwarding, ForwardingHost } from './forwarding';

/**
 * Brings back the user's forwards through an agent that just connected (after a reload, or when
 * tunnel access comes back on), both ways, each local one on the local port it had if free.
 * Forwards already open are left alone; one that cannot come back is logged, and the rest go on.
 */
export async function restoreForwards(
	forwarding: Forwarding,
	connections: ConnectionRegistry,
	host: ForwardingHost,
	log: ExtensionLogger,
	agentId: string,
): Promise<void> {
	if (!host.settings().restoreForwardedPorts) {
		return;
	}
	const state = host.loadState();
	const attempt = async (what: string, run: () => Promise<unknown>): Promise<void> => {
		try {
			await run();
		} catch (error) {
			log.warn(`could not restore the forward of ${what}: ${errorMessage(error)}`);
		}
	};
	for (const saved of state.forwards.filter((f) => f.agentId === agentId)) {
		if (!forwarding.findForwardTo(agentId, saved)) {
			await attempt(formatHostPort(saved.host, saved.port), () =>
				forwarding.forward(agentId, saved, { origin: 'user', localPort: saved.localPort }),
			);
		}
	}
	const open = connections.get(agentId)?.forwards ?? [];
	for (const saved of state.reverseForwards.filter((f) => f.agentId === agentId)) {
		if (!open.some((f) => f.direction === 'remote' && f.bindPort === saved.bindPort)) {
			await attempt(`the agent's port ${saved.bindPort}`, () => forwarding.forwardRemote(agentId, saved));
		}
	}
}
