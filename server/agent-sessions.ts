import { Disposable, Emitter } from '../protocol/lifecycle';
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
	private lastClients = 0;
	private readonly _onDidChangeClients = this._register(new Emitter<number>());
	/** The number of connected clients changed (every session is told too: `clientsChanged`). */
	readonly onDidChangeClients = this._onDidChangeClients.event;

	constructor(config: AgentSessionsConfig) {
		super();
		const { timers, log, identity } = config;
		this.ports = this._register(
			new PortWatcher(
				new ListeningPortScanner({ excludePids: new Set([process.pid]) }),
				timers,
				log.fork('ports'),
			),
		);
		const clients = (): number => this.clients;
		this.management = this._register(
			new ManagementSessions({
				timers,
				log,
				graceMs: config.graceMs,
				shortGraceMs: config.shortGraceMs,
				...(config.maxWaitingSessions !== undefined ? { maxWaiting: config.maxWaitingSessions } : {}),
				limits: config.limits,
				serve: (rpc) => serveAgentMethods(rpc, { identity, timers, ports: this.ports, clients }),
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
				policy: config.policy,
				allowRemoteBind: config.allowRemoteBind,
				serve: (rpc, forwards) =>
					serveAgentMethods(rpc, { identity, timers, ports: this.ports, forwards, clients }),
			}),
		);
		this._register(this.management.onDidChangeCounts(() => this.clientsMayHaveChanged()));
		this._register(this.streams.onDidChangeCounts(() => this.clientsMayHaveChanged()));
		this._register(this.registry.register(this.management));
		this._register(this.registry.register(extensionHostRefusal));
		this._register(this.registry.register(this.tunnels));
		this._register(this.registry.register(this.streams));
	}

	/** Clients connected now: Management sessions with a socket, and stream sessions. */
	get clients(): number {
		return this.management.counts.connected + this.streams.counts.sessions;
	}

	/** Tells every client the agent is stopping, and closes what cannot wait. */
	shutdown(reason: string): void {
		this.management.shutdown(reason);
		this.streams.shutdown(reason);
		this.tunnels.dispose();
	}

	private clientsMayHaveChanged(): void {
		const clients = this.clients;
		if (clients !== this.lastClients) {
			this.lastClients = clients;
			this.management.broadcast('clientsChanged', { clients });
			this.streams.broadcast('clientsChanged', { clients });
			this._onDidChangeClients.fire(clients);
		}
	}
}
