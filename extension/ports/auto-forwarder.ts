import { errorMessage } from '../../protocol/errors';
import type { ForwardInfo, ListeningPort } from '../../protocol/rpc';
import type { ConnectionRegistry } from '../agent/connection-registry';
import { isForwardableHost, listeningPortKey } from '../agent/listening-ports';
import type { ExtensionLogger } from '../logger';
import { connectHostFor } from './forward-input';
import type { Forwarding, ForwardingHost } from './forwarding';

/**
 * Auto-forwarding, as VS Code's Ports view does it: a port an agent reports after its first
 * listing is forwarded as `berth.portsAttributes` (or `otherPortsAttributes`) says, and an
 * auto-forward whose port went away is stopped. Ports of an agent on this machine's loopback (its
 * own agent, or another agent on this host) are never auto-forwarded: they are reachable here
 * already, and forwarding them is how a same-host agent's forwards would chain.
 */
export class AutoForwarder {
	/** Ports seen per agent since it connected: the first listing is the baseline. */
	private readonly seen = new Map<string, Set<string>>();
	private readonly openedOnce = new Set<string>();

	constructor(
		private readonly forwarding: Forwarding,
		private readonly connections: ConnectionRegistry,
		private readonly host: ForwardingHost,
		private readonly log: ExtensionLogger,
	) {}

	/** The agent is gone: its next connection starts a new baseline. */
	forget(agentId: string): void {
		this.seen.delete(agentId);
	}

	/** The agent's listening ports changed. */
	async update(agentId: string): Promise<void> {
		const connection = this.connections.get(agentId);
		const ports = connection?.listeningPorts;
		if (!connection || ports === undefined) {
			return;
		}
		const seen = this.seen.get(agentId);
		this.seen.set(agentId, new Set(ports.map(listeningPortKey)));
		for (const forward of connection.forwards) {
			const gone = !ports.some((p) => p.port === forward.targetPort);
			if (gone && forward.direction === 'local' && this.forwarding.originOf(agentId, forward.id) === 'auto') {
				await this.forwarding.stop(agentId, forward.id);
			}
		}
		if (!seen || connection.sameNetwork || !this.host.settings().autoForwardPorts) {
			return;
		}
		for (const port of ports.filter((p) => !seen.has(listeningPortKey(p)) && isForwardableHost(p.host))) {
			const host = connectHostFor(port.host === 'localhost' ? '127.0.0.1' : port.host);
			if (!this.forwarding.findForwardTo(agentId, { host, port: port.port })) {
				await this.forwardOne(agentId, port, host);
			}
		}
	}

	private async forwardOne(agentId: string, port: ListeningPort, host: string): Promise<void> {
		const attributes = this.forwarding.attributesOf(port.host, port.port, port.command);
		if (attributes.onAutoForward === 'ignore') {
			return;
		}
		let info: ForwardInfo;
		try {
			info = await this.forwarding.forward(agentId, { host, port: port.port }, { origin: 'auto' });
		} catch (error) {
			this.log.warn(`auto-forwarding port ${port.port} failed: ${errorMessage(error)}`);
			return;
		}
		const url = await this.forwarding.externalUrl(agentId, info);
		const label = this.forwarding.labelFor(agentId, host, port.port, port.command);
		const name = label ? `${label} (port ${port.port})` : `port ${port.port}`;
		switch (attributes.onAutoForward) {
			case 'notify':
				this.host.notifyAutoForwarded({ port: port.port, name, url });
				return;
			case 'openBrowserOnce':
				if (this.openedOnce.has(`${agentId}|${port.port}`)) {
					return;
				}
				this.openedOnce.add(`${agentId}|${port.port}`);
				this.host.openBrowser(url);
				return;
			case 'openBrowser':
				this.host.openBrowser(url);
				return;
			case 'silent':
				return;
		}
	}
}
