import { randomUUID } from 'node:crypto';
import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type Event } from '../../protocol/lifecycle';
import type { AddForwardParams, ForwardInfo } from '../../protocol/rpc';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint } from './dial';
import type { LocalForwardSpec } from './forward-spec';
import { LocalForward } from './local-forward';

/**
 * The forwards of one client against one agent: what the CLI and the extension use. Both local
 * (-L) and remote (-R) forwards appear in one list with live counters; `onDidChange` fires when
 * one is added, fails, ends (state `closed`, then it leaves the list) or its counters move.
 */
/** One forwarded connection that failed: which forward, and why (`connect ECONNREFUSED …`). */
export interface ForwardFailure {
	readonly id: string;
	readonly message: string;
}

export interface Forwarder {
	readonly onDidChange: Event<ForwardInfo>;
	/** A forwarded connection failed (the forward itself goes on). */
	readonly onDidFailConnection: Event<ForwardFailure>;
	list(): ForwardInfo[];
	/**
	 * Listens locally and carries each connection to spec.host:spec.port from the agent's side.
	 * @throws BerthError BERTH_ERR_LISTEN when the local port cannot be opened.
	 */
	addLocal(spec: LocalForwardSpec): Promise<ForwardInfo>;
	/** Has the agent listen and carry each connection back to params.target* on this side. */
	addRemote(params: AddForwardParams): Promise<ForwardInfo>;
	remove(id: string): Promise<void>;
	dispose(): void;
}

/** How often counters are re-announced while a forward carries traffic. */
const COUNTER_EVENT_INTERVAL_MS = 1_000;

/**
 * A Forwarder that carries each connection in its own Tunnel (3) connection, VS Code's way. It
 * works against a real VS Code server too (`peer: "vscode"`), but has no remote forwards.
 */
export class TunnelForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly forwards = new Map<
		string,
		{ forward: LocalForward; spec: LocalForwardSpec; last: string }
	>();

	constructor(private readonly endpoint: AgentEndpoint) {
		super();
		const timer = setInterval(() => this.announceCounters(), COUNTER_EVENT_INTERVAL_MS);
		this._register({ dispose: () => clearInterval(timer) });
		this._register({
			dispose: () => {
				for (const { forward } of this.forwards.values()) {
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
		const forward = await LocalForward.listen(spec, (host, port) =>
			dial(this.endpoint, { connectionType: ConnectionType.Tunnel, args: { host, port } }),
		);
		const id = randomUUID();
		this.forwards.set(id, { forward, spec, last: '' });
		forward.onDidFailConnection((message) => {
			this._onDidFailConnection.fire({ id, message });
			this.announce(id);
		});
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
		const counters = entry.forward.counters;
		return {
			id,
			direction: 'local',
			bindHost: entry.spec.bind,
			bindPort: entry.forward.localPort,
			targetHost: entry.spec.host,
			targetPort: entry.spec.port,
			state: 'active',
			counters,
		};
	}

	private announce(id: string): ForwardInfo | undefined {
		const info = this.describe(id);
		const entry = this.forwards.get(id);
		if (info && entry) {
			entry.last = JSON.stringify(info.counters);
			this._onDidChange.fire(info);
		}
		return info;
	}

	private announceCounters(): void {
		for (const [id, entry] of this.forwards) {
			try {
				if (JSON.stringify(entry.forward.counters) !== entry.last) {
					this.announce(id);
				}
			} catch (error) {
				entry.last = errorMessage(error);
			}
		}
	}
}
