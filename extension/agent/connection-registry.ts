import { errorMessage } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import type { ExtensionLogger } from '../logger';
import { OwnForwards } from '../../server/client/index';
import type { AgentTunnel } from './agent-tunnel';
import {
	Connection,
	type AgentTarget,
	type ConnectionFailure,
	type SessionLoss,
	type WindowIdentity,
} from './connection';
import { describePastOutages, describeReconnectingBriefly } from './outage-text';

/** What changed: `status` (connection up or down), `forwards` (proxies included), `ports` or the set of agents. */
export interface ConnectionRegistryChange {
	readonly agentId: string;
	readonly kind: 'added' | 'removed' | 'status' | 'forwards' | 'ports';
}

/**
 * The agents this window is connected to, by id (several at once, the local one included). It
 * relays every connection's events as one `onDidChange`, and logs the ups and downs.
 */
export class ConnectionRegistry extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<ConnectionRegistryChange>());
	readonly onDidChange = this._onDidChange.event;

	private readonly _onDidFailConnection = this._register(
		new Emitter<ConnectionFailure & { readonly agentId: string }>(),
	);
	/** A forwarded connection failed on some agent (the forward goes on). */
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidLoseSession = this._register(
		new Emitter<SessionLoss & { readonly agentId: string }>(),
	);
	/** An agent's link came back on a new session, and connections were lost with the old one. */
	readonly onDidLoseSession = this._onDidLoseSession.event;

	private readonly connections = new Map<string, { connection: Connection; listeners: DisposableStore }>();
	/** Agents being connected, so the panel can say so. */
	private readonly pending = new Map<string, AgentTarget>();
	/** This window's name and forwards, the same on every agent (see WindowIdentity). */
	private readonly window: WindowIdentity;

	/** This window's forwards and listeners on every agent (the loop guard, declareListeners). */
	get own(): OwnForwards {
		return this.window.own;
	}

	constructor(
		private readonly log: ExtensionLogger,
		/** What this window calls itself on every agent (`hello`), e.g. `alice@laptop (VS Code, window 1a2b)`. */
		readonly clientName: string,
		own: OwnForwards = new OwnForwards(),
	) {
		super();
		this.window = { clientName, own: this._register(own) };
		this._register({
			dispose: () => {
				for (const { connection, listeners } of this.connections.values()) {
					listeners.dispose();
					connection.dispose();
				}
				this.connections.clear();
			},
		});
	}

	get(agentId: string): Connection | undefined {
		return this.connections.get(agentId)?.connection;
	}

	all(): Connection[] {
		return [...this.connections.values()].map((e) => e.connection);
	}

	/** Targets whose first connection is in progress. */
	connecting(): AgentTarget[] {
		return [...this.pending.values()];
	}

	/**
	 * Connects to `target`, replacing an existing connection to the same agent. A `tunnel` (the way
	 * to an agent on an ssh host) is the connection's from then on: it ends with it, or at once if
	 * connecting fails.
	 * @throws what Connection.open throws; the previous connection, if any, is kept then.
	 */
	async connect(target: AgentTarget, tunnel?: AgentTunnel): Promise<Connection> {
		const log = this.log.fork(target.isLocal ? 'local agent' : target.id);
		this.pending.set(target.id, target);
		this._onDidChange.fire({ agentId: target.id, kind: 'status' });
		let connection: Connection;
		try {
			connection = await Connection.open(target, log, this.window, tunnel);
		} catch (error) {
			log.warn(`connecting failed: ${errorMessage(error)}`);
			throw error;
		} finally {
			this.pending.delete(target.id);
			this._onDidChange.fire({ agentId: target.id, kind: 'status' });
		}
		if (this.isDisposed) {
			connection.dispose();
			return connection;
		}
		this.disconnect(target.id);
		const listeners = new DisposableStore();
		const fire = (kind: ConnectionRegistryChange['kind']) => () =>
			this._onDidChange.fire({ agentId: target.id, kind });
		listeners.add(connection.onDidChangeForward(fire('forwards')));
		listeners.add(connection.onDidChangeProxy(fire('forwards')));
		listeners.add(connection.onDidChangePorts(fire('ports')));
		listeners.add(
			connection.onDidFailConnection((failure) =>
				this._onDidFailConnection.fire({ ...failure, agentId: target.id }),
			),
		);
		listeners.add(
			connection.onDidLoseSession((loss) => this._onDidLoseSession.fire({ ...loss, agentId: target.id })),
		);
		listeners.add(
			connection.onDidChangeStatus((status) => {
				switch (status.type) {
					case 'connected':
						log.info(status.drops ? `connected: ${describePastOutages(status.drops)}` : 'connected');
						break;
					case 'reconnecting':
						log.warn(describeReconnectingBriefly(status) + (status.lastError ? `: ${status.lastError}` : ''));
						break;
					case 'failed':
						log.error(`connection failed: ${status.message}`);
						break;
				}
				this._onDidChange.fire({ agentId: target.id, kind: 'status' });
			}),
		);
		this.connections.set(target.id, { connection, listeners });
		log.info(
			`connected to ${target.isLocal ? target.url : target.id} (${target.peer === 'vscode' ? 'VS Code server' : 'Berth agent'})`,
		);
		this._onDidChange.fire({ agentId: target.id, kind: 'added' });
		return connection;
	}

	/** Closes the connection and its forwards. */
	disconnect(agentId: string): boolean {
		const entry = this.connections.get(agentId);
		if (!entry) {
			return false;
		}
		this.connections.delete(agentId);
		entry.listeners.dispose();
		entry.connection.dispose();
		this._onDidChange.fire({ agentId, kind: 'removed' });
		return true;
	}
}
