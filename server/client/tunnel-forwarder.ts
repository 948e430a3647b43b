import { randomUUID } from 'node:crypto';
import { BerthError } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import type { ForwardInfo } from '../../protocol/rpc';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint } from './dial';
import type { LocalForwardSpec } from './forward-spec';
import type { Forwarder, ForwardFailure } from './forwarder';
import { LocalForward } from './local-forward';

interface TunnelEntry {
	readonly forward: LocalForward;
	readonly spec: LocalForwardSpec;
	/** The forwarder's subscriptions to this forward's events. */
	readonly listeners: DisposableStore;
}

/**
 * A Forwarder that carries each connection in its own Tunnel (3) connection, VS Code's way. It
 * works against a real VS Code server too (`peer: "vscode"`), but has no remote forwards.
 */
export class TunnelForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly forwards = new Map<string, TunnelEntry>();

	constructor(private readonly endpoint: AgentEndpoint) {
		super();
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

	async addLocal(spec: LocalForwardSpec): Promise<ForwardInfo> {
		const forward = await LocalForward.listen(
			spec,
			(host, port) => dial(this.endpoint, { connectionType: ConnectionType.Tunnel, args: { host, port } }),
			this.endpoint.timers,
		);
		if (this.isDisposed) {
			forward.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the forwarder was closed while the forward was opening');
		}
		const id = randomUUID();
		const listeners = new DisposableStore();
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
