import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { ForwardInfo } from '../../protocol/rpc';
import type { PortOrigin } from '../../protocol/webview';
import type { ConnectionRegistry, ConnectionRegistryChange } from '../agent/connection-registry';
import { describeLostSession } from '../agent/outage-text';
import { describeForwardFailure } from '../error-text';
import type { ExtensionLogger } from '../logger';
import { resolvePortAttributes, type PortAttributes } from '../port-attributes';
import { browsableHost, type BerthSettings } from '../settings';
import { AutoForwarder } from './auto-forwarder';
import { restoreForwards } from './restore-forwards';
import { formatHostPort, isSameTarget, type ForwardTarget } from './forward-input';
import { forwardKey } from './ports-model';
import {
	labelKey,
	portKey,
	withForward,
	withLabel,
	withProtocol,
	withReverseForward,
	withoutForward,
	withoutReverseForward,
	type SavedProtocol,
	type SavedState,
} from './saved-state';

/**
 * A local port another can replace: it is taken, or listening there would be a loop (the client
 * library refuses a listener where one of this window's forwards leads, BERTH_ERR_LOOP).
 */
function isRetryableLocalPort(error: unknown): boolean {
	return (
		error instanceof BerthError && (error.code === 'BERTH_ERR_LISTEN' || error.code === 'BERTH_ERR_LOOP')
	);
}

/** An auto-forwarded port the user is told about. */
export interface AutoForwardNote {
	/** The agent's port. */
	readonly port: number;
	/** `port 3000`, or `Web app (port 3000)` with a label. */
	readonly name: string;
	/** The address that opens it from where the user is (asExternalUri). */
	readonly url: string;
}

/** What forwarding needs from its surroundings (VS Code's, which extension.ts builds). */
export interface ForwardingHost {
	settings(): BerthSettings;
	loadState(): SavedState;
	saveState(state: SavedState): void;
	/** The address that opens a local URL from where the user is (`vscode.env.asExternalUri`). */
	externalUri(url: string): Promise<string>;
	/** Tells the user an auto-forwarded port is ready (the host shows at most one such note per 5 s). */
	notifyAutoForwarded(note: AutoForwardNote): void;
	/**
	 * Tells the user a forward's connection failed (once per forward), or that a drop lost an
	 * agent's session and its connections (once per drop).
	 */
	notifyConnectionFailed(message: string): void;
	openBrowser(url: string): void;
}

/** How a forward is opened. */
export interface ForwardOptions {
	readonly origin: PortOrigin;
	/** The local port to try first (default: the same as the target's); 0 picks any. */
	readonly localPort?: number;
	/** The user typed the local port: fail when it is taken, rather than take another. */
	readonly exactLocalPort?: boolean;
}

/** A reverse forward to open: the agent listens on bindHost:bindPort, connections come to host:port here. */
export interface ReverseForwardTarget extends ForwardTarget {
	/** Loopback unless given (other addresses need the agent's consent). */
	readonly bindHost?: string;
	readonly bindPort: number;
}

/**
 * Opens and closes forwards on the connected agents, and remembers what the panel shows about
 * them: origin (user or auto), labels, protocols, and the user's forwards (both ways) to restore
 * after a reload. Auto-forwarding is AutoForwarder's. The user is told, once per forward, when a
 * connection through it fails, and once per drop when a drop lost an agent's session with its
 * connections (a drop that resumed tells nothing: its connections go on).
 */
export class Forwarding extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<void>());
	/** Labels, protocols or origins changed (forwards themselves change through the ConnectionRegistry). */
	readonly onDidChange = this._onDidChange.event;

	private readonly origins = new Map<string, PortOrigin>();
	private readonly failedOnce = new Set<string>();
	private readonly auto: AutoForwarder;

	constructor(
		private readonly connections: ConnectionRegistry,
		private readonly host: ForwardingHost,
		private readonly log: ExtensionLogger,
	) {
		super();
		this.auto = new AutoForwarder(this, connections, host, log);
		this._register(connections.onDidChange((change) => this.onConnectionRegistryChange(change)));
		this._register(
			connections.onDidFailConnection(({ agentId, forward, message }) => {
				const key = forward && forwardKey(agentId, forward.id);
				if (key && !this.failedOnce.has(key)) {
					this.failedOnce.add(key);
					const target = formatHostPort(forward.targetHost, forward.targetPort);
					host.notifyConnectionFailed(
						describeForwardFailure(message, target, forward.direction === 'local' ? 'agent' : 'here'),
					);
				}
			}),
		);
		this._register(
			connections.onDidLoseSession(({ agentId, reason }) => {
				const agent = connections.get(agentId)?.target.isLocal
					? "this machine's agent"
					: `the agent at ${agentId}`;
				host.notifyConnectionFailed(describeLostSession(agent, reason));
			}),
		);
	}

	get originMap(): ReadonlyMap<string, PortOrigin> {
		return this.origins;
	}

	find(agentId: string, forwardId: string): ForwardInfo | undefined {
		return this.connections.get(agentId)?.forwards.find((f) => f.id === forwardId && f.state !== 'closed');
	}

	/** The open local forward of `target` through `agentId`, however its host is spelled. */
	findForwardTo(agentId: string, target: ForwardTarget): ForwardInfo | undefined {
		return this.connections
			.get(agentId)
			?.forwards.find(
				(f) =>
					f.direction === 'local' &&
					f.state !== 'closed' &&
					isSameTarget({ host: f.targetHost, port: f.targetPort }, target),
			);
	}

	/**
	 * Forwards `target` from `agentId`, binding `berth.localAddress`. When the preferred local port
	 * is taken, any free one is used instead (as VS Code does), unless the user typed it.
	 * @throws BerthError when the agent is not connected or no local port can be opened.
	 */
	async forward(agentId: string, target: ForwardTarget, options: ForwardOptions): Promise<ForwardInfo> {
		const connection = this.connectionOf(agentId);
		const bind = this.host.settings().localAddress;
		// Through an agent on this machine's loopback the target's port is here too: the same number
		// is taken, or (on another loopback address) would be a loop, so pick any.
		const preferred = options.localPort ?? (connection.sameNetwork ? 0 : target.port);
		let info: ForwardInfo;
		try {
			info = await connection.addLocal({ bind, localPort: preferred, host: target.host, port: target.port });
		} catch (error) {
			if (!isRetryableLocalPort(error) || preferred === 0 || options.exactLocalPort) {
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

	/**
	 * A reverse forward (ssh -R): `agentId` listens on target.bindPort and sends each connection
	 * to target.host:target.port on this machine.
	 * @throws BerthError when the agent is not connected, is a VS Code server, or refuses the bind.
	 */
	async forwardRemote(agentId: string, target: ReverseForwardTarget): Promise<ForwardInfo> {
		const info = await this.connectionOf(agentId).addRemote({
			...(target.bindHost !== undefined ? { bindHost: target.bindHost } : {}),
			bindPort: target.bindPort,
			targetHost: target.host,
			targetPort: target.port,
		});
		this.origins.set(forwardKey(agentId, info.id), 'user');
		this.log.info(
			`reverse forwarding ${formatHostPort(info.bindHost, info.bindPort)} on ${agentId} -> ` +
				formatHostPort(target.host, target.port),
		);
		const saved = {
			agentId,
			bindHost: info.bindHost,
			bindPort: info.bindPort,
			host: target.host,
			port: target.port,
		};
		this.host.saveState(withReverseForward(this.host.loadState(), saved));
		this._onDidChange.fire();
		return info;
	}

	/** Stops a forward (either way) and forgets it. */
	async stop(agentId: string, forwardId: string): Promise<void> {
		const info = this.find(agentId, forwardId);
		await this.close(agentId, forwardId);
		if (info?.direction === 'local') {
			this.host.saveState(
				withoutForward(this.host.loadState(), { agentId, host: info.targetHost, port: info.targetPort }),
			);
			this.log.info(`stopped forwarding ${formatHostPort(info.targetHost, info.targetPort)} on ${agentId}`);
		} else if (info) {
			this.host.saveState(withoutReverseForward(this.host.loadState(), { agentId, bindPort: info.bindPort }));
			this.log.info(`stopped the reverse forward of port ${info.bindPort} on ${agentId}`);
		}
		this._onDidChange.fire();
	}

	/**
	 * Change Local Address Port: the forward moves to `localPort` (exactly: the user chose it). The
	 * new listener opens before the old one closes, so a taken port changes nothing.
	 */
	async changeLocalPort(agentId: string, forwardId: string, localPort: number): Promise<ForwardInfo> {
		const old = this.find(agentId, forwardId);
		if (!old || old.direction !== 'local') {
			throw new BerthError('BERTH_ERR_USAGE', 'that forward is gone');
		}
		const origin = this.origins.get(forwardKey(agentId, forwardId)) ?? 'user';
		const target = { host: old.targetHost, port: old.targetPort };
		const info = await this.forward(agentId, target, { origin, localPort, exactLocalPort: true });
		await this.close(agentId, forwardId);
		this._onDidChange.fire();
		return info;
	}

	/** The URL of a local forward on this machine (`http://127.0.0.1:8080/`). */
	localUrl(agentId: string, info: ForwardInfo): string {
		const protocol = this.protocolFor(agentId, info.targetHost, info.targetPort);
		return `${protocol}://${browsableHost(info.bindHost)}:${info.bindPort}/`;
	}

	/** The URL that opens a local forward from where the user is: asExternalUri of the local URL. */
	externalUrl(agentId: string, info: ForwardInfo): Promise<string> {
		return this.host.externalUri(this.localUrl(agentId, info));
	}

	/** http or https: the user's choice (Change Port Protocol), else berth.portsAttributes'. */
	protocolFor(agentId: string, host: string, port: number): SavedProtocol {
		return (
			this.host.loadState().protocols[portKey(agentId, host, port)] ?? this.attributesOf(host, port).protocol
		);
	}

	setProtocol(agentId: string, host: string, port: number, protocol: SavedProtocol): void {
		this.host.saveState(withProtocol(this.host.loadState(), portKey(agentId, host, port), protocol));
		this._onDidChange.fire();
	}

	labelFor(agentId: string, host: string, port: number, command?: string): string | undefined {
		return (
			this.host.loadState().labels[labelKey(agentId, host, port)] ??
			this.attributesOf(host, port, command).label
		);
	}

	setLabel(agentId: string, host: string, port: number, label: string | undefined): void {
		this.host.saveState(withLabel(this.host.loadState(), labelKey(agentId, host, port), label));
		this._onDidChange.fire();
	}

	/** The port's attributes from berth.portsAttributes (and otherPortsAttributes). */
	attributesOf(host: string, port: number, command?: string): PortAttributes {
		const settings = this.host.settings();
		return resolvePortAttributes(
			settings.portsAttributes,
			{ host, port, ...(command !== undefined ? { command } : {}) },
			settings.otherPortsAttributes,
		);
	}

	/** The origin of a forward (user when unknown). */
	originOf(agentId: string, forwardId: string): PortOrigin | undefined {
		return this.origins.get(forwardKey(agentId, forwardId));
	}

	private connectionOf(agentId: string) {
		const connection = this.connections.get(agentId);
		if (!connection) {
			throw new BerthError('BERTH_ERR_USAGE', `not connected to ${agentId}: connect to the agent first`);
		}
		return connection;
	}

	/** Closes a forward without forgetting it (Change Local Address Port keeps its saved entry). */
	private async close(agentId: string, forwardId: string): Promise<void> {
		await this.connections.get(agentId)?.remove(forwardId);
		this.origins.delete(forwardKey(agentId, forwardId));
		this.failedOnce.delete(forwardKey(agentId, forwardId));
	}

	private onConnectionRegistryChange(change: ConnectionRegistryChange): void {
		switch (change.kind) {
			case 'added':
				void restoreForwards(this, this.connections, this.host, this.log, change.agentId);
				return;
			case 'removed':
				for (const key of [...this.origins.keys()]) {
					if (key.startsWith(`${change.agentId}|`)) {
						this.origins.delete(key);
					}
				}
				this.auto.forget(change.agentId);
				return;
			case 'ports':
				void this.auto.update(change.agentId);
				return;
			case 'status':
			case 'forwards':
				return;
		}
	}
}
