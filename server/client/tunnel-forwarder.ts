import { randomUUID } from 'node:crypto';
import { BerthError } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import type { ForwardInfo } from '../../protocol/rpc';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint } from './dial';
import type { LocalForwardSpec } from './forward-spec';
import type { Forwarder, ForwardFailure } from './forwarder';
import { LocalForward, type TunnelOpener } from './local-forward';
import { probeSharedLoopback } from './loopback-probe';
import { openLocalForward } from './open-local-forward';
import { agentNetworkOf, OwnForwards, type OwnForwardReservation } from './own-forwards';
import { targetPlace } from './target-locality';

interface TunnelEntry {
	readonly forward: LocalForward;
	readonly spec: LocalForwardSpec;
	/** The forwarder's subscriptions to this forward's events, and its place among this client's forwards. */
	readonly listeners: DisposableStore;
}

/**
 * A Forwarder that carries each connection in its own Tunnel (3) connection, VS Code's way. It
 * works against a real VS Code server too (`peer: "vscode"`), but has no remote forwards. Such a
 * server does not say which network it is on: the first time a forward leads to a loopback (or
 * other own) address, a probe finds out whether it shares this client's (`probeSharedLoopback`),
 * so that a forward to its own listener is refused there too.
 */
export class TunnelForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly forwards = new Map<string, TunnelEntry>();
	private readonly own: OwnForwards;
	private readonly opener: TunnelOpener;
	/** The agent's network, once probed. */
	private agentNetwork: Promise<string> | undefined;

	constructor(private readonly endpoint: AgentEndpoint) {
		super();
		this.own = endpoint.own ?? this._register(new OwnForwards());
		this.opener = (host, port) =>
			dial(this.endpoint, { connectionType: ConnectionType.Tunnel, args: { host, port } });
		this._register({
			dispose: () => {
				for (const { forward, listeners } of this.forwards.values()) {
					listeners.dispose();
					forward.dispose();
				}
				this.forwards.clear();
			},
		});
	}

	list(): ForwardInfo[] {
		return [...this.forwards.keys()].map((id) => this.describe(id)!);
	}

	/**
	 * Listens here and carries each connection to spec.host:spec.port from the agent's side.
	 * @throws BerthError BERTH_ERR_LOOP when it would reach one of this client's listeners (on an
	 *   agent that shares this loopback), BERTH_ERR_LISTEN when the port cannot be opened.
	 */
	async addLocal(spec: LocalForwardSpec): Promise<ForwardInfo> {
		const { timers } = this.endpoint;
		const here = { clientNetwork: this.own.network, timers };
		const assumed = await targetPlace(spec.host, spec.port, { ...here, network: this.own.network });
		const network = assumed.isLocal ? await this.networkOfAgent() : this.unknownNetwork;
		const target = { ...assumed, network };
		const forward = await openLocalForward({
			spec,
			own: this.own,
			target,
			declared: () => Promise.resolve(), // a VS Code server has no declareListeners
			listen: async (chosen, reservation) => {
				const opened = await LocalForward.listen(chosen, this.opener, timers);
				reservation.listening(opened.addresses, opened.localPort);
				return { opened, reservation };
			},
		});
		return this.adopt(forward.opened, spec, forward.reservation);
	}

	/** Whether the agent shares this loopback, asked once (see `probeSharedLoopback`). */
	private networkOfAgent(): Promise<string> {
		this.agentNetwork ??= probeSharedLoopback(this.opener, this.endpoint.timers).then((shared) =>
			shared ? this.own.network : this.unknownNetwork,
		);
		return this.agentNetwork;
	}

	private get unknownNetwork(): string {
		return agentNetworkOf(undefined, this.endpoint.address.display);
	}

	private adopt(
		forward: LocalForward,
		spec: LocalForwardSpec,
		reservation: OwnForwardReservation,
	): ForwardInfo {
		if (this.isDisposed) {
			forward.dispose();
			reservation.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the forwarder was closed while the forward was opening');
		}
		const id = randomUUID();
		const listeners = new DisposableStore();
		listeners.add(reservation);
		listeners.add(forward.onDidFailConnection((message) => this._onDidFailConnection.fire({ id, message })));
		listeners.add(forward.onDidChangeCounters(() => this.announce(id)));
		this.forwards.set(id, { forward, spec, listeners });
		return this.announce(id)!;
	}

	addRemote(): Promise<ForwardInfo> {
		return Promise.reject(
			new BerthError(
				'BERTH_ERR_USAGE',
				'remote forwards need a Berth agent with streams; Tunnel connections carry local forwards only',
			),
		);
	}

	remove(id: string): Promise<void> {
		const entry = this.forwards.get(id);
		if (entry) {
			const info = { ...this.describe(id)!, state: 'closed' as const };
			entry.listeners.dispose();
			entry.forward.dispose();
			this.forwards.delete(id);
			this._onDidChange.fire(info);
		}
		return Promise.resolve();
	}

	private describe(id: string): ForwardInfo | undefined {
		const entry = this.forwards.get(id);
		if (!entry) {
			return undefined;
		}
		return {
			id,
			direction: 'local',
			bindHost: entry.spec.bind,
			bindPort: entry.forward.localPort,
			targetHost: entry.spec.host,
			targetPort: entry.spec.port,
			state: 'active',
			counters: entry.forward.counters,
		};
	}

	private announce(id: string): ForwardInfo | undefined {
		const info = this.describe(id);
		if (info) {
			this._onDidChange.fire(info);
		}
		return info;
	}
}
