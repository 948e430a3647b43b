import { randomUUID } from 'node:crypto';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import { ForwardStats } from '../shared/forward-stats';
import type { Logger } from '../shared/log';
import type { ProxyObserver } from '../shared/proxy/proxy-connections';
import type { ProxyCredentials } from '../shared/proxy/proxy-credentials';
import { ProxyListener } from '../shared/proxy/proxy-listener';
import type { ProxyRoute } from '../shared/proxy/proxy-route';
import { bindHosts } from './forward-loop';
import type { DynamicForwardSpec } from './forward-spec';
import type { OwnForwardReservation, OwnForwards } from './own-forwards';
import type { ProxyInfo } from './proxy-info';

export interface LocalProxiesOptions {
	readonly timers: Timers;
	/** This client's listeners: a proxy port is one (declared to agents on this loopback). */
	readonly own: OwnForwards;
	/** Resolves once the agents on this client's loopback have been told of the listener about to open. */
	readonly declared: () => Promise<void>;
}

interface ProxyEntry {
	readonly id: string;
	readonly bind: string;
	/** The port bound (kept: a closed listener no longer knows it). */
	readonly port: number;
	readonly listener: ProxyListener;
	readonly stats: ForwardStats;
	readonly reservation: OwnForwardReservation;
}

/**
 * The forward-mode proxy ports of a StreamForwarder (`-D`): listeners here whose connections leave
 * from the agent, each with its counters (announced at most once a second, as a forward's are).
 * A proxy port is one of this client's listeners, so agents on its loopback do not list it as a
 * service. Removing one closes its listener and the connections it carries.
 */
export class LocalProxies extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<ProxyInfo>());
	/** A proxy was added or removed, or its counters moved (throttled). */
	readonly onDidChange = this._onDidChange.event;
	private readonly entries = new Map<string, ProxyEntry>();

	constructor(private readonly options: LocalProxiesOptions) {
		super();
		this._register({
			dispose: () => {
				for (const entry of this.entries.values()) {
					close(entry);
				}
				this.entries.clear();
			},
		});
	}

	list(): ProxyInfo[] {
		return [...this.entries.values()].map((entry) => describe(entry, 'active'));
	}

	/**
	 * Listens on `spec` (port 0: any free one) and sends each connection through `route`.
	 * @throws BerthError BERTH_ERR_LOOP when one of this client's forwards leads to that port,
	 *   BERTH_ERR_LISTEN when it cannot be opened.
	 */
	async add(
		spec: DynamicForwardSpec,
		route: ProxyRoute,
		credentials: ProxyCredentials,
		log: Logger,
	): Promise<ProxyInfo> {
		const id = randomUUID();
		const hosts = bindHosts(spec.bind);
		const reservation = this.options.own.addListener(
			`proxy ${formatHostPort(spec.bind, spec.port)}`,
			hosts,
			spec.port,
		);
		const stats = new ForwardStats(() => this.announce(id), this.options.timers);
		const observer: ProxyObserver = { ...stats.observer, opened: () => stats.opened() };
		let listener: ProxyListener;
		try {
			await this.options.declared();
			listener = await ProxyListener.listen({
				bind: spec.bind,
				port: spec.port,
				route,
				credentials,
				timers: this.options.timers,
				log,
				observer,
			});
		} catch (error) {
			reservation.dispose();
			stats.dispose();
			throw error;
		}
		const entry: ProxyEntry = { id, bind: spec.bind, port: listener.port, listener, stats, reservation };
		if (this.isDisposed) {
			close(entry);
			throw new BerthError('BERTH_ERR_CLOSED', 'the forwarder was closed while the proxy was opening');
		}
		reservation.listening(hosts, listener.port);
		this.entries.set(id, entry);
		const info = describe(entry, 'active');
		this._onDidChange.fire(info);
		return info;
	}

	/** Closes the proxy and its connections; false when there is no such proxy. */
	remove(id: string): boolean {
		const entry = this.entries.get(id);
		if (!entry) {
			return false;
		}
		this.entries.delete(id);
		close(entry);
		this._onDidChange.fire(describe(entry, 'closed'));
		return true;
	}

	private announce(id: string): void {
		const entry = this.entries.get(id);
		if (entry) {
			this._onDidChange.fire(describe(entry, 'active'));
		}
	}
}

function close(entry: ProxyEntry): void {
	entry.listener.dispose();
	entry.stats.dispose();
	entry.reservation.dispose();
}

function describe(entry: ProxyEntry, state: ProxyInfo['state']): ProxyInfo {
	return {
		id: entry.id,
		mode: 'forward',
		bindHost: entry.bind,
		bindPort: entry.port,
		state,
		counters: entry.stats.counters,
	};
}
