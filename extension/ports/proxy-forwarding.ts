import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable } from '../../protocol/lifecycle';
import type { ProxyInfo } from '../../server/client/index';
import type { ConnectionRegistry } from '../agent/connection-registry';
import type { ExtensionLogger } from '../logger';
import type { BerthSettings } from '../settings';
import { withProxy, withoutProxy, type SavedProxy, type SavedState } from './saved-state';

/** What proxy forwarding needs from its surroundings (extension.ts builds it). */
export interface ProxyForwardingHost {
	settings(): BerthSettings;
	loadState(): SavedState;
	saveState(state: SavedState): void;
}

/** A proxy port and the agent it belongs to. */
export interface PickedProxy {
	readonly agentId: string;
	readonly info: ProxyInfo;
}

/** The saved entry of a proxy: its mode and the port it listens on (here, or on the agent). */
export function savedProxyOf(agentId: string, info: Pick<ProxyInfo, 'mode' | 'bindPort'>): SavedProxy {
	return { agentId, mode: info.mode === 'forward' ? 'socks' : 'share', port: info.bindPort };
}

/**
 * Starts and stops the user's proxy ports on the connected agents (Start SOCKS Proxy, Share This
 * Machine's Network), and remembers them, on the port each got, to bring back when their agent
 * connects again (after a reload, a reconnection) as forwards come back.
 */
export class ProxyForwarding extends Disposable {
	constructor(
		private readonly connections: ConnectionRegistry,
		private readonly host: ProxyForwardingHost,
		private readonly log: ExtensionLogger,
	) {
		super();
		this._register(
			connections.onDidChange((change) => {
				if (change.kind === 'added') {
					void this.restore(change.agentId);
				}
			}),
		);
	}

	/** Every open proxy port, on every agent. */
	all(): PickedProxy[] {
		return this.connections
			.all()
			.flatMap((c) => c.proxies.map((info) => ({ agentId: c.target.id, info })))
			.filter(({ info }) => info.state !== 'closed');
	}

	find(agentId: string, proxyId: string): ProxyInfo | undefined {
		return this.connections.get(agentId)?.proxies.find((p) => p.id === proxyId && p.state !== 'closed');
	}

	/**
	 * A SOCKS proxy on this machine's 127.0.0.1:`port` (0: any free port) whose traffic leaves
	 * from `agentId`; remembered on the port it got.
	 * @throws BerthError when the agent is not connected, or the port cannot be opened.
	 */
	async startSocksProxy(agentId: string, port: number): Promise<ProxyInfo> {
		const info = await this.connectionOf(agentId).startSocksProxy(port);
		this.remember(agentId, info);
		this.log.info(`SOCKS proxy on 127.0.0.1:${info.bindPort}: traffic leaves from ${agentId}`);
		return info;
	}

	/**
	 * This machine's network shared on `agentId`: a proxy port on its 127.0.0.1:`port` (0: the
	 * agent picks) whose traffic leaves from here; remembered on the port it got.
	 * @throws BerthError when the agent is not connected, or refuses the port.
	 */
	async shareNetwork(agentId: string, port: number): Promise<ProxyInfo> {
		const info = await this.connectionOf(agentId).shareNetwork(port);
		this.remember(agentId, info);
		this.log.info(`sharing this machine's network on port ${info.bindPort} of ${agentId}`);
		return info;
	}

	/** Stops a proxy port (its connections close) and forgets it. */
	stop(agentId: string, proxyId: string): void {
		const info = this.find(agentId, proxyId);
		if (!info) {
			return;
		}
		this.connections.get(agentId)?.stopProxy(proxyId);
		this.host.saveState(withoutProxy(this.host.loadState(), savedProxyOf(agentId, info)));
		this.log.info(
			info.mode === 'forward'
				? `stopped the SOCKS proxy on 127.0.0.1:${info.bindPort}`
				: `stopped sharing this machine's network on port ${info.bindPort} of ${agentId}`,
		);
	}

	private remember(agentId: string, info: ProxyInfo): void {
		this.host.saveState(withProxy(this.host.loadState(), savedProxyOf(agentId, info)));
	}

	private connectionOf(agentId: string) {
		const connection = this.connections.get(agentId);
		if (!connection) {
			throw new BerthError('BERTH_ERR_USAGE', `not connected to ${agentId}: connect to the agent first`);
		}
		return connection;
	}

	/**
	 * Brings back the proxy ports saved for an agent (it runs on its own when one connects), each
	 * on its port; a SOCKS proxy whose port was taken meanwhile takes any free one (and is
	 * remembered there). Those open already are left alone; one that cannot come back is logged,
	 * and the rest go on.
	 */
	async restore(agentId: string): Promise<void> {
		if (!this.host.settings().restoreForwardedPorts) {
			return;
		}
		for (const saved of this.host.loadState().proxies.filter((p) => p.agentId === agentId)) {
			const open = this.connections.get(agentId)?.proxies ?? [];
			if (open.some((p) => savedProxyOf(agentId, p).mode === saved.mode && p.bindPort === saved.port)) {
				continue;
			}
			try {
				await this.restoreOne(saved);
			} catch (error) {
				const what = saved.mode === 'socks' ? 'the SOCKS proxy on port' : "this machine's network on port";
				this.log.warn(`could not restore ${what} ${saved.port}: ${errorMessage(error)}`);
			}
		}
	}

	private async restoreOne(saved: SavedProxy): Promise<void> {
		if (saved.mode === 'share') {
			await this.shareNetwork(saved.agentId, saved.port);
			return;
		}
		try {
			await this.startSocksProxy(saved.agentId, saved.port);
		} catch (error) {
			if (!(
				error instanceof BerthError &&
				(error.code === 'BERTH_ERR_LISTEN' || error.code === 'BERTH_ERR_LOOP')
			)) {
				throw error;
			}
			const info = await this.startSocksProxy(saved.agentId, 0);
			this.host.saveState(withoutProxy(this.host.loadState(), saved));
			this.log.info(
				`port ${saved.port} is not available for the SOCKS proxy; using ${info.bindPort} instead`,
			);
		}
	}
}
