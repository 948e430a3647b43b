import { BerthError } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import type { ProxyInfo, StreamForwarder } from '../../server/client/index';
import type { ExtensionLogger } from '../logger';

/** Where a proxy port listens: always loopback (a proxy without a password must not be open to the network). */
export const PROXY_BIND_ADDRESS = '127.0.0.1';

/** A shared-network port and the stream session (forwarder) that carries it alone. */
interface SharedEntry {
	readonly forwarder: StreamForwarder;
	readonly events: DisposableStore;
	readonly info: ProxyInfo;
}

/**
 * The proxy ports of one connection to a Berth agent, through the client library:
 * - SOCKS proxies (`forward -D`): listeners on this machine's loopback, on the connection's own
 *   stream forwarder;
 * - shared-network ports (`forward -R PORT`): a proxy port on the agent whose traffic leaves from
 *   here. Each gets a stream session of its own (`openForwarder`): the agent closes such a port
 *   only with its session, and counts none of its streams by port, so one session per port is
 *   what lets Stop close it and its row show its own counters.
 */
export class ConnectionProxies extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<ProxyInfo>());
	/** A proxy was added or stopped, or its counters moved (throttled). */
	readonly onDidChange = this._onDidChange.event;
	private readonly shared = new Map<string, SharedEntry>();

	constructor(
		/** The connection's stream forwarder; undefined for a VS Code server (it has no proxies). */
		private readonly forwarder: StreamForwarder | undefined,
		private readonly openForwarder: () => Promise<StreamForwarder>,
		private readonly log: ExtensionLogger,
	) {
		super();
		if (forwarder) {
			this._register(forwarder.onDidChangeProxy((info) => this._onDidChange.fire(info)));
		}
		this._register({
			dispose: () => {
				for (const entry of this.shared.values()) {
					entry.events.dispose();
					entry.forwarder.dispose();
				}
				this.shared.clear();
			},
		});
	}

	/** Every proxy port of the connection, both ways. */
	list(): ProxyInfo[] {
		const shared = [...this.shared.values()].flatMap((e) => e.forwarder.listProxies());
		return [...(this.forwarder?.listProxies() ?? []), ...shared];
	}

	/** Stream sessions of this connection's own, besides the forwarder's. */
	get extraSessions(): number {
		return this.shared.size;
	}

	/**
	 * A SOCKS5 + HTTP proxy on this machine's loopback, `port` (0: any free one), whose traffic
	 * leaves from the agent.
	 * @throws BerthError BERTH_ERR_USAGE for a VS Code server; BERTH_ERR_LISTEN, BERTH_ERR_LOOP.
	 */
	async startSocks(port: number): Promise<ProxyInfo> {
		return this.berth().addProxy({ bind: PROXY_BIND_ADDRESS, port });
	}

	/**
	 * A proxy port on the agent's loopback, `port` (0: any free one), whose traffic leaves from
	 * this machine, on a stream session of its own.
	 * @throws BerthError BERTH_ERR_USAGE for a VS Code server; what the agent refused.
	 */
	async share(port: number): Promise<ProxyInfo> {
		this.berth();
		const forwarder = await this.openForwarder();
		let info: ProxyInfo;
		try {
			info = await forwarder.addReverseProxy({ bind: PROXY_BIND_ADDRESS, port });
		} catch (error) {
			forwarder.dispose();
			throw error;
		}
		if (this.isDisposed) {
			forwarder.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the connection closed while the port was opening');
		}
		const events = new DisposableStore();
		events.add(forwarder.onDidChangeProxy((changed) => this._onDidChange.fire(changed)));
		events.add(
			forwarder.onDidFailConnection((failure) =>
				this.log.warn(`shared network on the agent's port ${info.bindPort}: ${failure.message}`),
			),
		);
		this.shared.set(info.id, { forwarder, events, info });
		this._onDidChange.fire(info);
		return info;
	}

	/** Stops a proxy and closes its connections; false when there is no such proxy. */
	stop(id: string): boolean {
		const entry = this.shared.get(id);
		if (entry) {
			this.shared.delete(id);
			entry.events.dispose();
			entry.forwarder.dispose();
			this._onDidChange.fire({ ...entry.info, state: 'closed' });
			return true;
		}
		return this.forwarder?.removeProxy(id) ?? false;
	}

	private berth(): StreamForwarder {
		if (!this.forwarder) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				'proxies need a Berth agent: a VS Code server cannot carry them',
			);
		}
		return this.forwarder;
	}
}
