import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { ForwardInfo } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import type { PortsViewState } from '../../protocol/webview';
import type { ConnectionRegistry } from '../agent/connection-registry';
import type { Forwarding } from './forwarding';
import {
	buildPortsViewState,
	forwardKey,
	rowPortName,
	type AgentInput,
	type TrafficRate,
} from './ports-model';
import { RATE_IDLE_MS, TrafficRates } from './traffic-rates';

/** How often at most the panel's state is recomputed and announced. */
const UPDATE_INTERVAL_MS = 250;
/** How often an agent's line counts up how long it has been reconnecting. */
const OUTAGE_TICK_MS = 1_000;

/**
 * A forward's first failed connection (once per forward): what the notifier needs for its toast,
 * and the row to reveal from it (`PortsViewProvider.reveal(rowKey)`).
 */
export interface FirstConnectionFailure {
	readonly rowKey: string;
	readonly agentId: string;
	readonly forwardId: string;
	/** The port as the panel names it: `Docs server (47427)`, `3000`, `db:5432`. */
	readonly portName: string;
	/** In the user's words, with the agent's reason: "Nothing is listening on 42481 on vm (connect ECONNREFUSED …)". */
	readonly message: string;
}

/** What the presenter needs besides the connections and forwarding (extension.ts builds it). */
export interface PortsPresenterHost {
	readonly timers: Timers;
	/** The line said above everything, if any (`panelNotice`). */
	notice(): string | undefined;
	/** The address that opens a forward from this window (area C's `Forwarding.externalUrl`). */
	externalUrl(agentId: string, info: ForwardInfo): Promise<string>;
}

/**
 * Computes the panel's state from the connections and forwarding, and announces it at most every
 * 250 ms however fast the events come (counters move every second per busy forward), and once a
 * second while an agent is reconnecting (its line counts the outage). It measures
 * traffic rates, resolves each local forward's usable address, and tells once per forward when
 * its first connection failed (`onDidFailFirstConnection`: area C's notifier shows the toast).
 */
export class PortsPresenter extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<PortsViewState>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailFirstConnection = this._register(new Emitter<FirstConnectionFailure>());
	/** A forward's first connection failed (fires once per forward, at the next update). */
	readonly onDidFailFirstConnection = this._onDidFailFirstConnection.event;

	private timer: IDisposable | undefined;
	private readonly rates = new TrafficRates();
	/** Resolved addresses by forward key, with the local URL each was resolved from. */
	private readonly urls = new Map<string, { readonly localUrl: string; url?: string }>();
	/** Forwards whose first failure was announced. */
	private readonly failureTold = new Set<string>();

	constructor(
		private readonly connections: ConnectionRegistry,
		private readonly forwarding: Forwarding,
		private readonly host: PortsPresenterHost,
	) {
		super();
		this._register(
			connections.onDidChange((change) => {
				if (change.kind === 'forwards') {
					this.sample(change.agentId);
				}
				this.schedule();
			}),
		);
		this._register(forwarding.onDidChange(() => this.schedule()));
		this._register({ dispose: () => this.timer?.dispose() });
	}

	/** Recompute soon (trust or settings changed). */
	schedule(delayMs = UPDATE_INTERVAL_MS): void {
		if (this.timer || this.isDisposed) {
			return;
		}
		this.timer = this.host.timers.timeout(() => {
			this.timer = undefined;
			this.update();
		}, delayMs);
	}

	/** The panel's state now. */
	state(): PortsViewState {
		return this.build(this.agents());
	}

	private update(): void {
		const agents = this.agents();
		const state = this.build(agents);
		this._onDidChange.fire(state);
		this.tellFirstFailures(agents, state);
		// "Reconnecting for 12 s" counts up while no event comes.
		if (agents.some((a) => a.state.type === 'reconnecting' && a.state.outageMs !== undefined)) {
			this.schedule(OUTAGE_TICK_MS);
		}
		// Rates fall to 0 only if someone looks again once the traffic has stopped.
		if (state.rows.some((r) => r.kind !== 'detected' && r.rateIn + r.rateOut > 0)) {
			this.schedule(RATE_IDLE_MS + UPDATE_INTERVAL_MS);
		}
	}

	private build(agents: readonly AgentInput[]): PortsViewState {
		const now = this.host.timers.now();
		const rates = new Map<string, TrafficRate>();
		const urls = new Map<string, string>();
		const live = new Set<string>();
		for (const agent of agents) {
			for (const forward of agent.forwards.filter((f) => f.state !== 'closed')) {
				const key = forwardKey(agent.id, forward.id);
				live.add(key);
				rates.set(key, this.rates.rate(key, now));
				const url = forward.direction === 'local' ? this.urlOf(agent.id, forward) : undefined;
				if (url !== undefined) {
					urls.set(key, url);
				}
			}
			for (const proxy of agent.proxies) {
				const key = forwardKey(agent.id, proxy.id);
				live.add(key);
				rates.set(key, this.rates.rate(key, now));
			}
		}
		this.forget(live);
		const notice = this.host.notice();
		return buildPortsViewState({
			agents,
			origins: this.forwarding.originMap,
			labelFor: (agentId, host, port, command) => this.forwarding.labelFor(agentId, host, port, command),
			urls,
			rates,
			...(notice !== undefined ? { notice } : {}),
		});
	}

	private agents(): AgentInput[] {
		const agents: AgentInput[] = [
			...this.connections.connecting().map((target): AgentInput => ({
				id: target.id,
				url: target.isLocal ? target.url : target.id,
				isLocal: target.isLocal,
				peer: target.peer,
				state: { type: 'connecting' },
				forwards: [],
				proxies: [],
				listeningPorts: undefined,
			})),
			...this.connections.all().map((c): AgentInput => ({
				id: c.target.id,
				url: c.target.isLocal ? c.target.url : c.target.id,
				isLocal: c.target.isLocal,
				peer: c.target.peer,
				state: c.status,
				...(c.user !== undefined ? { user: c.user } : {}),
				forwards: c.forwards,
				proxies: c.proxies,
				listeningPorts: c.listeningPorts,
			})),
		];
		agents.sort((a, b) => Number(b.isLocal) - Number(a.isLocal) || a.id.localeCompare(b.id));
		return agents.filter((a, i) => agents.findIndex((b) => b.id === a.id) === i);
	}

	/** Samples the traffic totals of an agent's forwards and proxies when they are announced. */
	private sample(agentId: string): void {
		const now = this.host.timers.now();
		const connection = this.connections.get(agentId);
		for (const { id, counters } of [...(connection?.forwards ?? []), ...(connection?.proxies ?? [])]) {
			this.rates.observe(forwardKey(agentId, id), now, counters.bytesIn, counters.bytesOut);
		}
	}

	/**
	 * The forward's usable address, once resolved; resolving starts on first sight and again when
	 * the local URL changes (another protocol), and the panel updates when it is known.
	 */
	private urlOf(agentId: string, forward: ForwardInfo): string | undefined {
		const key = forwardKey(agentId, forward.id);
		const localUrl = this.forwarding.localUrl(agentId, forward);
		const known = this.urls.get(key);
		if (known?.localUrl === localUrl) {
			return known.url;
		}
		const entry: { readonly localUrl: string; url?: string } = { localUrl };
		this.urls.set(key, entry);
		this.host.externalUrl(agentId, forward).then(
			(url) => {
				if (this.urls.get(key) === entry && !this.isDisposed) {
					entry.url = url;
					this.schedule();
				}
			},
			// No usable address: the row shows the local one, as before.
			() => undefined,
		);
		return undefined;
	}

	private forget(live: ReadonlySet<string>): void {
		this.rates.retain(live);
		for (const key of [...this.urls.keys(), ...this.failureTold]) {
			if (!live.has(key)) {
				this.urls.delete(key);
				this.failureTold.delete(key);
			}
		}
	}

	private tellFirstFailures(agents: readonly AgentInput[], state: PortsViewState): void {
		for (const agent of agents) {
			for (const forward of agent.forwards) {
				const key = forwardKey(agent.id, forward.id);
				if (forward.counters.lastError === undefined || this.failureTold.has(key)) {
					continue;
				}
				const row = state.rows.find(
					(r) => r.kind !== 'detected' && r.agentId === agent.id && r.forwardId === forward.id,
				);
				if (!row || row.kind === 'detected') {
					continue;
				}
				this.failureTold.add(key);
				this._onDidFailFirstConnection.fire({
					rowKey: row.key,
					agentId: agent.id,
					forwardId: forward.id,
					portName: rowPortName(row),
					message: row.problem?.message ?? `A connection failed: ${forward.counters.lastError}`,
				});
			}
		}
	}
}
