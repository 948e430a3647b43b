import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { ForwardInfo, ListeningPort } from '../../protocol/rpc';
import type { PortOrigin } from '../../protocol/webview';
import type { ConnectionRegistry, ConnectionRegistryChange } from '../agent/connection-registry';
import { isForwardableHost, listeningPortKey } from '../agent/listening-ports';
import type { ExtensionLogger } from '../logger';
import { resolvePortAttributes, type PortAttributes } from '../port-attributes';
import { browsableHost, type BerthSettings } from '../settings';
import { connectHostFor, formatHostPort, type ForwardTarget } from './forward-input';
import { forwardKey } from './ports-model';
import { labelKey, withForward, withLabel, withoutForward, type SavedState } from './saved-state';

/** What forwarding needs from its surroundings (VS Code's, which extension.ts builds). */
export interface ForwardingHost {
	settings(): BerthSettings;
	loadState(): SavedState;
	saveState(state: SavedState): void;
	/** Tells the user an auto-forwarded port is ready (the host shows at most one such note per 5 s). */
	notifyAutoForwarded(message: string, url: string): void;
	openBrowser(url: string): void;
}

/** How a forward is opened. */
export interface ForwardOptions {
	readonly origin: PortOrigin;
	/** The local port to try first (default: the same as the target's); 0 picks any. */
	readonly localPort?: number;
}

/**
 * Opens and closes forwards on the connected agents, and remembers what the panel shows about
 * them: origin (user or auto), labels, and the user's forwards to restore after a reload.
 * Auto-forwarding: a port an agent reports after its first listing is forwarded as
 * `berth.portsAttributes` says. Ports of this machine's own agent are never auto-forwarded: they
 * are reachable here already.
 */
export class Forwarding extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<void>());
	/** Labels or origins changed (forwards themselves change through the ConnectionRegistry). */
	readonly onDidChange = this._onDidChange.event;

	private readonly origins = new Map<string, PortOrigin>();
	/** Ports seen per agent since it connected: the first listing is the baseline. */
	private readonly seen = new Map<string, Set<string>>();
	private readonly openedOnce = new Set<string>();

	constructor(
		private readonly connections: ConnectionRegistry,
		private readonly host: ForwardingHost,
		private readonly log: ExtensionLogger,
	) {
		super();
		this._register(connections.onDidChange((change) => this.onConnectionRegistryChange(change)));
	}

	get originMap(): ReadonlyMap<string, PortOrigin> {
		return this.origins;
	}

	find(agentId: string, forwardId: string): ForwardInfo | undefined {
		return this.connections.get(agentId)?.forwards.find((f) => f.id === forwardId && f.state !== 'closed');
	}

	/**
	 * Forwards `target` from `agentId`, binding `berth.localAddress`. When the preferred local port
	 * is taken, any free one is used instead (as VS Code does), and the log says so.
	 * @throws BerthError when the agent is not connected or no local port can be opened.
	 */
	async forward(agentId: string, target: ForwardTarget, options: ForwardOptions): Promise<ForwardInfo> {
		const connection = this.connections.get(agentId);
		if (!connection) {
			throw new BerthError('BERTH_ERR_USAGE', `not connected to ${agentId}: connect to the agent first`);
		}
		const bind = this.host.settings().localAddress;
		// Through this machine's own agent the target's port is on this machine too: listening on the
		// same number (another loopback address) could make the forward reach itself, so pick any.
		const samePortIsSafe = !connection.target.isLocal;
		const preferred = options.localPort ?? (samePortIsSafe ? target.port : 0);
		let info: ForwardInfo;
		try {
			info = await connection.addLocal({ bind, localPort: preferred, host: target.host, port: target.port });
		} catch (error) {
			if (!(error instanceof BerthError) || error.code !== 'BERTH_ERR_LISTEN' || preferred === 0) {
				throw error;
			}
			info = await connection.addLocal({ bind, localPort: 0, host: target.host, port: target.port });
			this.log.info(`local port ${preferred} is not available; using ${info.bindPort} instead`);
		}
		this.origins.set(forwardKey(agentId, info.id), options.origin);
		this.log.info(
			`forwarding ${formatHostPort(info.bindHost, info.bindPort)} -> ${formatHostPort(target.host, target.port)} ` +
				`on ${agentId} (${options.origin})`,
		);
		if (options.origin === 'user') {
			const saved = { agentId, host: target.host, port: target.port, localPort: info.bindPort };
			this.host.saveState(withForward(this.host.loadState(), saved));
		}
		this._onDidChange.fire();
		return info;
	}

	async stop(agentId: string, forwardId: string): Promise<void> {
		const info = this.find(agentId, forwardId);
		await this.connections.get(agentId)?.remove(forwardId);
		this.origins.delete(forwardKey(agentId, forwardId));
		if (info) {
			this.host.saveState(
				withoutForward(this.host.loadState(), { agentId, host: info.targetHost, port: info.targetPort }),
			);
			this.log.info(`stopped forwarding ${formatHostPort(info.targetHost, info.targetPort)} on ${agentId}`);
		}
		this._onDidChange.fire();
	}

	/** The URL that opens a forward in a browser. */
	localUrl(agentId: string, info: ForwardInfo): string {
		const attributes = this.attributesOf(agentId, info.targetHost, info.targetPort);
		return `${attributes.protocol}://${browsableHost(info.bindHost)}:${info.bindPort}/`;
	}

	labelFor(agentId: string, host: string, port: number, command?: string): string | undefined {
		return (
			this.host.loadState().labels[labelKey(agentId, host, port)] ??
			this.attributesOf(agentId, host, port, command).label
		);
	}

	setLabel(agentId: string, host: string, port: number, label: string | undefined): void {
		this.host.saveState(withLabel(this.host.loadState(), labelKey(agentId, host, port), label));
		this._onDidChange.fire();
	}

	private attributesOf(_agentId: string, host: string, port: number, command?: string): PortAttributes {
		const settings = this.host.settings();
		return resolvePortAttributes(
			settings.portsAttributes,
			{ host, port, ...(command !== undefined ? { command } : {}) },
			settings.otherPortsAttributes,
		);
	}

	private onConnectionRegistryChange(change: ConnectionRegistryChange): void {
		switch (change.kind) {
			case 'added':
				void this.restore(change.agentId);
				return;
			case 'removed':
				this.seen.delete(change.agentId);
				for (const key of [...this.origins.keys()]) {
					if (key.startsWith(`${change.agentId}|`)) {
						this.origins.delete(key);
					}
				}
				return;
			case 'ports':
				void this.autoForward(change.agentId);
				return;
			case 'status':
			case 'forwards':
				return;
		}
	}

	/** Brings back the user's forwards of this agent, each on the local port it had if free. */
	private async restore(agentId: string): Promise<void> {
		if (!this.host.settings().restoreForwardedPorts) {
			return;
		}
		const connection = this.connections.get(agentId);
		for (const saved of this.host.loadState().forwards.filter((f) => f.agentId === agentId)) {
			const open = connection?.forwards.some(
				(f) => f.targetHost === saved.host && f.targetPort === saved.port,
			);
			if (open) {
				continue;
			}
			try {
				await this.forward(agentId, saved, { origin: 'user', localPort: saved.localPort });
			} catch (error) {
				this.log.warn(
					`could not restore the forward of ${formatHostPort(saved.host, saved.port)}: ${errorMessage(error)}`,
				);
			}
		}
	}

	private async autoForward(agentId: string): Promise<void> {
		const connection = this.connections.get(agentId);
		const ports = connection?.listeningPorts;
		if (!connection || ports === undefined) {
			return;
		}
		const seen = this.seen.get(agentId);
		const current = new Set(ports.map(listeningPortKey));
		this.seen.set(agentId, current);
		for (const forward of connection.forwards) {
			const gone = !ports.some((p) => p.port === forward.targetPort);
			if (gone && this.origins.get(forwardKey(agentId, forward.id)) === 'auto') {
				await this.stop(agentId, forward.id);
			}
		}
		if (!seen || connection.target.isLocal || !this.host.settings().autoForwardPorts) {
			return;
		}
		for (const port of ports.filter((p) => !seen.has(listeningPortKey(p)) && isForwardableHost(p.host))) {
			if (connection.forwards.some((f) => f.targetPort === port.port && f.state !== 'closed')) {
				continue;
			}
			await this.autoForwardOne(agentId, port);
		}
	}

	private async autoForwardOne(agentId: string, port: ListeningPort): Promise<void> {
		const attributes = this.attributesOf(agentId, port.host, port.port, port.command);
		if (attributes.onAutoForward === 'ignore') {
			return;
		}
		const host = connectHostFor(port.host === 'localhost' ? '127.0.0.1' : port.host);
		let info: ForwardInfo;
		try {
			info = await this.forward(agentId, { host, port: port.port }, { origin: 'auto' });
		} catch (error) {
			this.log.warn(`auto-forwarding port ${port.port} failed: ${errorMessage(error)}`);
			return;
		}
		const url = this.localUrl(agentId, info);
		const name = attributes.label ? `${attributes.label} (port ${port.port})` : `port ${port.port}`;
		switch (attributes.onAutoForward) {
			case 'notify':
				this.host.notifyAutoForwarded(`Your application on ${name} is available at ${url}`, url);
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
