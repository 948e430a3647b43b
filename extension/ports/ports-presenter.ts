import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { PortsViewState } from '../../protocol/webview';
import type { ConnectionRegistry } from '../agent/connection-registry';
import type { Forwarding } from './forwarding';
import { buildPortsViewState, type AgentInput } from './ports-model';

/** How often at most the panel's state is recomputed and announced. */
const UPDATE_INTERVAL_MS = 250;

/**
 * Computes the panel's state from the connections and forwarding, and announces it at most every
 * 250 ms however fast the events come (counters move every second per busy forward).
 */
export class PortsPresenter extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<PortsViewState>());
	readonly onDidChange = this._onDidChange.event;
	private timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		private readonly connections: ConnectionRegistry,
		private readonly forwarding: Forwarding,
		private readonly notice: () => string | undefined,
	) {
		super();
		this._register(connections.onDidChange(() => this.schedule()));
		this._register(forwarding.onDidChange(() => this.schedule()));
		this._register({ dispose: () => clearTimeout(this.timer) });
	}

	/** Recompute soon (trust or settings changed). */
	schedule(): void {
		this.timer ??= setTimeout(() => {
			this.timer = undefined;
			this._onDidChange.fire(this.state());
		}, UPDATE_INTERVAL_MS);
	}

	state(): PortsViewState {
		const agents: AgentInput[] = [
			...this.connections.connecting().map((target): AgentInput => ({
				id: target.id,
				url: target.isLocal ? target.url : target.id,
				isLocal: target.isLocal,
				peer: target.peer,
				state: { type: 'connecting' },
				forwards: [],
				listeningPorts: undefined,
			})),
			...this.connections.all().map((c): AgentInput => ({
				id: c.target.id,
				url: c.target.isLocal ? c.target.url : c.target.id,
				isLocal: c.target.isLocal,
				peer: c.target.peer,
				state: c.status,
				forwards: c.forwards,
				listeningPorts: c.listeningPorts,
			})),
		];
		agents.sort((a, b) => Number(b.isLocal) - Number(a.isLocal) || a.id.localeCompare(b.id));
		const notice = this.notice();
		return buildPortsViewState({
			agents: agents.filter((a, i) => agents.findIndex((b) => b.id === a.id) === i),
			origins: this.forwarding.originMap,
			labelFor: (agentId, host, port, command) => this.forwarding.labelFor(agentId, host, port, command),
			...(notice !== undefined ? { notice } : {}),
		});
	}
}
