import { Disposable, DisposableStore, Emitter, type IDisposable } from '../protocol/lifecycle';
import type { MessageLimits } from '../protocol/message-reader';
import type { Timers } from '../protocol/timers';
import { ListeningPortScanner } from './forward/listening-ports';
import { PortWatcher } from './forward/port-watcher';
import { ConnectionTypeRegistry } from './handshake/connection-types';
import { extensionHostRefusal } from './handshake/extension-host-refusal';
import { serveAgentMethods, type AgentIdentity } from './management/agent-methods';
import { ManagementSessions } from './management/management-sessions';
import { MuxConnections } from './mux/mux-connections';
import type { Logger } from './shared/log';
import type { TargetPolicy } from './shared/target-policy';
import { TunnelConnections } from './tunnel/tunnel-connections';
import { AgentClients, type ClientSession } from './agent-clients';
import type { AgentRpc } from './management/agent-methods';
import type { RemoteForwards } from './forward/remote-forwards';
import type { ProviderPool } from './forward/provider-pool';
import type { ConnectorTokens } from './connector-tokens';
import type { Upstream } from './shared/upstream';

/** What the agent's connection types need, resolved from its configuration. */
export interface AgentSessionsConfig {
	readonly identity: AgentIdentity;
	readonly timers: Timers;
	readonly log: Logger;
	readonly limits: MessageLimits;
	readonly graceMs: number;
	readonly shortGraceMs: number;
	readonly maxWaitingSessions?: number;
	readonly policy: TargetPolicy;
	readonly allowRemoteBind: boolean;
	/** The reverse proxy's providers, when the agent runs one (`berth server -r`). */
	readonly providers?: ProviderPool;
	/** Relay mode's connector tokens. */
	readonly connectorTokens?: ConnectorTokens;
	/** The proxy stream targets are reached through (`--upstream`). */
	readonly upstream?: Upstream;
	/** Autonomy mode: providers declare their own connector tokens. */
	readonly autonomy?: boolean;
}

/**
 * The agent's connection types (Management, ExtensionHost's refusal, Tunnel, Berth's Mux) in
 * their registry, the listening-port watcher they share, and the client count they report.
 * Disposing it ends every session. `Agent` puts an HTTP server in front of it.
 */
export class AgentSessions extends Disposable {
	readonly registry = new ConnectionTypeRegistry();
	readonly ports: PortWatcher;
	readonly management: ManagementSessions;
	readonly tunnels: TunnelConnections;
	readonly streams: MuxConnections;
	/** Every client session: names, the client list, declared listeners. */
	readonly clientList: AgentClients;
	private lastClients = 0;
	private readonly _onDidChangeClients = this._register(new Emitter<number>());
	/** The number of connected clients changed (every session is told too: `clientsChanged`). */
	readonly onDidChangeClients = this._onDidChangeClients.event;

	constructor(config: AgentSessionsConfig) {
		super();
		const { timers, log } = config;
		this.clientList = this._register(new AgentClients());
		// The agent's own listeners (its -R forwards) are not the user's services, nor are those
		// that clients on its loopback declare as their forwards' listeners.
		this.ports = this._register(
			new PortWatcher(
				new ListeningPortScanner({ excludePids: new Set([process.pid]) }),
				timers,
				log.fork('ports'),
				(port) => this.clientList.isDeclared(port),
			),
		);
		this._register(this.clientList.onDidChangeListeners(() => this.ports.refilter()));
		this.management = this._register(
			new ManagementSessions({
				timers,
				log,
				graceMs: config.graceMs,
				shortGraceMs: config.shortGraceMs,
				...(config.maxWaitingSessions !== undefined ? { maxWaiting: config.maxWaitingSessions } : {}),
				limits: config.limits,
				serve: (rpc, session) => this.serve(config, rpc, session, undefined),
			}),
		);
		this.tunnels = this._register(
			new TunnelConnections({ log: log.fork('tunnel'), policy: config.policy, timers }),
		);
		this.streams = this._register(
			new MuxConnections({
				timers,
				log,
				limits: config.limits,
				graceMs: config.graceMs,
				shortGraceMs: config.shortGraceMs,
				...(config.maxWaitingSessions !== undefined ? { maxWaiting: config.maxWaitingSessions } : {}),
				policy: config.policy,
				allowRemoteBind: config.allowRemoteBind,
				...(config.providers ? { providers: config.providers } : {}),
				...(config.connectorTokens ? { connectorTokens: config.connectorTokens } : {}),
				...(config.upstream ? { upstream: config.upstream } : {}),
				...(config.autonomy ? { autonomy: true } : {}),
				serve: (rpc, forwards, session) => this.serve(config, rpc, session, forwards),
			}),
		);
		this._register(this.management.onDidChangeCounts(() => this.clientsMayHaveChanged(false)));
		this._register(this.streams.onDidChangeCounts(() => this.clientsMayHaveChanged(false)));
		// A client that names itself changes the list, not the count: tell the sessions anyway.
		this._register(this.clientList.onDidRename(() => this.clientsMayHaveChanged(true)));
		this._register(this.registry.register(this.management));
		this._register(this.registry.register(extensionHostRefusal));
		this._register(this.registry.register(this.tunnels));
		this._register(this.registry.register(this.streams));
	}

	/** Clients connected now: Management and stream sessions with a socket (not those waiting for their client). */
	get clients(): number {
		return this.management.counts.connected + this.streams.counts.sessions;
	}

	/** Tells every client the agent is stopping, and closes what cannot wait. */
	shutdown(reason: string): void {
		this.management.shutdown(reason);
		this.streams.shutdown(reason);
		this.tunnels.dispose();
	}

	/** Serves the agent's methods to one session, registered in the client list while it lasts. */
	private serve(
		config: AgentSessionsConfig,
		rpc: AgentRpc,
		session: ClientSession,
		forwards: RemoteForwards | undefined,
	): IDisposable {
		const store = new DisposableStore();
		const self = store.add(this.clientList.add(session));
		store.add(
			serveAgentMethods(rpc, {
				identity: config.identity,
				timers: config.timers,
				ports: this.ports,
				clients: () => this.clients,
				registry: this.clientList,
				self,
				...(forwards ? { forwards } : {}),
			}),
		);
		return store;
	}

	/** Tells every session when the count changed, or (`renamed`) when a client named itself. */
	private clientsMayHaveChanged(renamed: boolean): void {
		const clients = this.clients;
		const counted = clients !== this.lastClients;
		if (counted || renamed) {
			this.lastClients = clients;
			this.management.broadcast('clientsChanged', { clients });
			this.streams.broadcast('clientsChanged', { clients });
		}
		if (counted) {
			this._onDidChangeClients.fire(clients);
		}
	}
}
