import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter, type Event } from '../../protocol/lifecycle';
import type { ListeningPort } from '../../protocol/rpc';
import type { ClientRpc, LinkState, SessionApi } from '../../server/client/index';
import type { ExtensionLogger } from '../logger';
import { applyPortsChanged } from './listening-ports';

/** The part of a session that reports: agent events, and the checked ports calls. */
export interface ReportingSession {
	readonly rpc: Pick<ClientRpc, 'onDidReceiveEvent'>;
	readonly api: Pick<SessionApi, 'listeningPorts' | 'onDidChangePorts'>;
}

/** Who holds the session to the agent and renews it (a StreamForwarder). */
export interface ReportSource {
	readonly state: LinkState;
	readonly onDidChangeState: Event<LinkState>;
	/** The current session; after a renewal a new one, undefined while there is none. */
	readonly session: ReportingSession | undefined;
}

/**
 * What a Berth agent reports over this window's one session with it: the ports listening on its
 * host (without this window's listeners: the client library leaves them out) and how many clients
 * it has, this window's sessions included. Followed across renewals: each time the source is
 * connected on a session not seen yet, the ports are asked of that session, and its
 * `portsChanged` and `clientsChanged` followed; the old session's events are dropped.
 */
export class AgentReports extends Disposable {
	private readonly _onDidChangePorts = this._register(new Emitter<readonly ListeningPort[] | undefined>());
	/** The listening ports changed (undefined: the agent cannot report them). */
	readonly onDidChangePorts = this._onDidChangePorts.event;
	private readonly _onDidChangeClients = this._register(new Emitter<number>());
	/** The agent's client count changed. */
	readonly onDidChangeClients = this._onDidChangeClients.event;

	private currentPorts: ListeningPort[] | undefined;
	private currentClients: number;
	private watched: ReportingSession | undefined;
	/** Subscriptions to the watched session's events. */
	private sessionEvents: DisposableStore | undefined;

	constructor(
		private readonly source: ReportSource,
		private readonly log: ExtensionLogger,
	) {
		super();
		this.currentClients = source.state.type === 'connected' ? source.state.info.clients : 0;
		this._register(source.onDidChangeState((state) => this.onState(state)));
		this._register({ dispose: () => this.sessionEvents?.dispose() });
		this.follow();
	}

	/** Ports listening on the agent's host; undefined until known, or when the agent cannot tell. */
	get ports(): readonly ListeningPort[] | undefined {
		return this.currentPorts;
	}

	/** The agent's clients, as it last said (`serverInfo` of the current session, then `clientsChanged`). */
	get clients(): number {
		return this.currentClients;
	}

	private onState(state: LinkState): void {
		if (state.type === 'connected') {
			this.setClients(state.info.clients);
			this.follow();
		}
	}

	/**
	 * Follows the source's current session when it is a new one. An agent that does not serve
	 * `listeningPorts` answers "unknown method": then there are simply no detected ports.
	 */
	private follow(): void {
		const session = this.source.session;
		if (!session || session === this.watched) {
			return;
		}
		this.watched = session;
		this.sessionEvents?.dispose();
		const events = (this.sessionEvents = new DisposableStore());
		events.add(session.rpc.onDidReceiveEvent((event) => this.onEvent(event)));
		events.add(
			session.api.onDidChangePorts((change) => {
				if (this.currentPorts !== undefined) {
					this.setPorts(applyPortsChanged(this.currentPorts, change));
				}
			}),
		);
		session.api.listeningPorts().then(
			(ports) => {
				if (session === this.watched) {
					this.setPorts(applyPortsChanged([], { added: ports, removed: [] }));
				}
			},
			(error: unknown) => {
				if (session !== this.watched) {
					return;
				}
				if (error instanceof BerthError && error.code === 'BERTH_ERR_RPC_UNKNOWN_METHOD') {
					this.log.debug('the agent does not report listening ports (no listeningPorts method)');
				} else if (!this.isDisposed) {
					this.log.warn(`listing the agent's ports failed: ${errorMessage(error)}`);
				}
				this.setPorts(undefined);
			},
		);
	}

	private onEvent(event: { readonly event: string; readonly data?: unknown }): void {
		if (event.event !== 'clientsChanged') {
			return;
		}
		const clients = (event.data as { clients?: unknown } | undefined)?.clients;
		if (typeof clients === 'number' && Number.isInteger(clients) && clients >= 0) {
			this.setClients(clients);
		}
	}

	private setClients(clients: number): void {
		if (clients !== this.currentClients && !this.isDisposed) {
			this.currentClients = clients;
			this._onDidChangeClients.fire(clients);
		}
	}

	private setPorts(ports: ListeningPort[] | undefined): void {
		if (this.isDisposed) {
			return;
		}
		this.currentPorts = ports;
		this._onDidChangePorts.fire(ports);
	}
}
