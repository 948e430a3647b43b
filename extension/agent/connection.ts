/**
 * The extension's one door to Berth's client library (server/client): every AgentLink, Forwarder,
 * dial and URL parse goes through this file, so the Forwarder implementation and the agent's
 * port detection are wired in one place.
 */

import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type Event, type IDisposable } from '../../protocol/lifecycle';
import type { ForwardInfo, ListeningPort } from '../../protocol/rpc';
import { ConnectionType } from '../../protocol/wire';
import {
	AgentLink,
	StreamForwarder,
	TunnelForwarder,
	createNodeTimers,
	dial,
	fetchAgentCommit,
	parseAgentUrl,
	type AgentEndpoint,
	type Forwarder,
	type LinkState,
} from '../../server/client/index';
import type { ExtensionLogger } from '../logger';
import { applyPortsChanged, parseListeningPortsResult, parsePortsChanged } from './listening-ports';

/** Whom a connection talks to: a Berth agent (verified), or a VS Code server (`--peer vscode`). */
export type PeerKind = 'berth' | 'vscode';

/** The id of the agent this window runs itself. */
export const LOCAL_AGENT_ID = 'local';

/** An agent to connect to. */
export interface AgentTarget {
	/** LOCAL_AGENT_ID, or the URL without secrets (from `agentIdForUrl`). */
	readonly id: string;
	readonly url: string;
	/** Never logged; undefined for an agent without a token. */
	readonly token: string | undefined;
	readonly peer: PeerKind;
	readonly isLocal: boolean;
}

/** Where a connection stands. */
export type ConnectionStatus =
	| { readonly type: 'connected'; readonly host?: string; readonly version?: string }
	| {
			readonly type: 'reconnecting';
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	| { readonly type: 'failed'; readonly message: string };

/** A local forward to open: listen on bind:localPort here, reach host:port from the agent. */
export interface LocalForwardRequest {
	readonly bind: string;
	readonly localPort: number;
	readonly host: string;
	readonly port: number;
}

/**
 * The agent's URL without secrets, which identifies it (SecretStorage key, saved state).
 * @throws BerthError BERTH_ERR_USAGE for a URL that is not an agent URL or that holds a token.
 */
export function agentIdForUrl(url: string): string {
	return parseAgentUrl(url).display;
}

/**
 * The Forwarder for an agent: a Berth agent carries every forwarded connection as a stream of one
 * session; a VS Code server gets one Tunnel connection per forwarded connection, VS Code's way.
 */
async function createForwarder(endpoint: AgentEndpoint): Promise<Forwarder> {
	return endpoint.peer === 'vscode' ? new TunnelForwarder(endpoint) : StreamForwarder.start(endpoint);
}

/**
 * One connected agent: its link (a Berth agent's Management session, reconnecting with backoff),
 * its forwards with live counters, and the ports it reports as listening. A VS Code server
 * (`peer: vscode`) has no Berth RPC: it is checked once with a handshake and then only forwarded
 * through.
 */
export class Connection extends Disposable {
	private readonly _onDidChangeStatus = this._register(new Emitter<ConnectionStatus>());
	readonly onDidChangeStatus = this._onDidChangeStatus.event;
	private readonly _onDidChangePorts = this._register(new Emitter<readonly ListeningPort[] | undefined>());
	/** The listening ports changed (undefined: the agent cannot report them). */
	readonly onDidChangePorts = this._onDidChangePorts.event;
	/** A forward was added, failed, closed, or its counters moved. */
	readonly onDidChangeForward: Event<ForwardInfo>;
	private readonly _onDidChangeClients = this._register(new Emitter<number>());
	/** The number of the agent's other clients changed (see `otherClients`). */
	readonly onDidChangeClients = this._onDidChangeClients.event;
	/** Clients the agent reports, this window's own sessions included. */
	private agentClients = 0;

	private current: ConnectionStatus;
	private ports: ListeningPort[] | undefined;
	private portEvents: IDisposable | undefined;
	private watchedSession: unknown;

	private constructor(
		readonly target: AgentTarget,
		private readonly link: AgentLink | undefined,
		private readonly forwarder: Forwarder,
		private readonly log: ExtensionLogger,
	) {
		super();
		this._register(forwarder);
		this.onDidChangeForward = forwarder.onDidChange;
		this._register(
			forwarder.onDidFailConnection((failure) => log.warn(`forward ${failure.id}: ${failure.message}`)),
		);
		const state = link?.state;
		this.current = state ? toStatus(state) : { type: 'connected' };
		this.agentClients = state?.type === 'connected' ? state.info.clients : 0;
		if (link) {
			this._register(link);
			this._register(link.onDidChangeState((s) => this.onLinkState(s)));
			this._register({ dispose: () => this.portEvents?.dispose() });
			this.watchPorts();
		}
	}

	/**
	 * Connects and checks the agent: a Berth agent must answer Berth's handshake (sign the client's
	 * challenge); a VS Code server must accept the token and its own commit.
	 * @throws BerthError: BERTH_ERR_CONNECT, BERTH_ERR_HANDSHAKE_REFUSED, BERTH_ERR_SERVER_UNVERIFIED, …
	 */
	static async open(target: AgentTarget, log: ExtensionLogger): Promise<Connection> {
		const address = parseAgentUrl(target.url);
		const timers = createNodeTimers();
		const commit = target.peer === 'vscode' ? await fetchAgentCommit(address) : undefined;
		const endpoint: AgentEndpoint = {
			address,
			token: target.token,
			mode: 'tcp',
			peer: target.peer,
			timers,
			...(commit !== undefined ? { commit } : {}),
		};
		if (target.peer === 'vscode') {
			const { transport } = await dial(endpoint, { connectionType: ConnectionType.Management });
			transport.dispose();
			log.warn(`${address.display} is a VS Code server: it cannot sign, so its identity is not verified`);
			return new Connection(target, undefined, await createForwarder(endpoint), log);
		}
		const link = await AgentLink.open(endpoint);
		try {
			return new Connection(target, link, await createForwarder(endpoint), log);
		} catch (error) {
			link.dispose();
			throw error;
		}
	}

	get status(): ConnectionStatus {
		return this.current;
	}

	/**
	 * The agent's clients other than this window: it counts every session, and this window holds
	 * the link's and (for a Berth agent) the stream forwarder's.
	 */
	get otherClients(): number {
		const own = (this.link ? 1 : 0) + (this.forwarder instanceof StreamForwarder ? 1 : 0);
		return Math.max(0, this.agentClients - own);
	}

	get forwards(): ForwardInfo[] {
		return this.forwarder.list();
	}

	/** Ports listening on the agent's host; undefined until known, or when the agent cannot tell. */
	get listeningPorts(): readonly ListeningPort[] | undefined {
		return this.ports;
	}

	/** @throws BerthError BERTH_ERR_LISTEN when the local port cannot be opened. */
	addLocal(request: LocalForwardRequest): Promise<ForwardInfo> {
		return this.forwarder.addLocal(request);
	}

	remove(forwardId: string): Promise<void> {
		return this.forwarder.remove(forwardId);
	}

	private onLinkState(state: LinkState): void {
		this.current = toStatus(state);
		this._onDidChangeStatus.fire(this.current);
		if (state.type === 'connected') {
			this.setClients(state.info.clients);
			this.watchPorts();
		}
	}

	private setClients(clients: number): void {
		if (clients !== this.agentClients && !this.isDisposed) {
			this.agentClients = clients;
			this._onDidChangeClients.fire(this.otherClients);
		}
	}

	/**
	 * Asks the agent's current session for its listening ports and follows `portsChanged`. An agent
	 * that does not serve `listeningPorts` yet answers "unknown method": then there are simply no
	 * detected ports.
	 */
	private watchPorts(): void {
		const session = this.link?.session;
		if (!session || session === this.watchedSession) {
			return;
		}
		this.watchedSession = session;
		this.portEvents?.dispose();
		this.portEvents = session.rpc.onDidReceiveEvent((event) => {
			if (event.event === 'clientsChanged') {
				const clients = (event.data as { clients?: unknown } | undefined)?.clients;
				if (typeof clients === 'number' && Number.isInteger(clients) && clients >= 0) {
					this.setClients(clients);
				}
				return;
			}
			if (event.event !== 'portsChanged' || this.ports === undefined) {
				return;
			}
			const change = parsePortsChanged(event.data);
			if (change) {
				this.setPorts(applyPortsChanged(this.ports, change));
			}
		});
		session.rpc.request('listeningPorts', {}).then(
			(result) => {
				if (!this.isDisposed && session === this.watchedSession) {
					this.setPorts(applyPortsChanged([], { added: parseListeningPortsResult(result), removed: [] }));
				}
			},
			(error: unknown) => {
				if (error instanceof BerthError && error.code === 'BERTH_ERR_RPC_UNKNOWN_METHOD') {
					this.log.debug('the agent does not report listening ports (no listeningPorts method)');
				} else if (!this.isDisposed) {
					this.log.warn(`listing the agent's ports failed: ${errorMessage(error)}`);
				}
				this.setPorts(undefined);
			},
		);
	}

	private setPorts(ports: ListeningPort[] | undefined): void {
		if (this.isDisposed) {
			return;
		}
		this.ports = ports;
		this._onDidChangePorts.fire(ports);
	}
}

function toStatus(state: LinkState): ConnectionStatus {
	switch (state.type) {
		case 'connected':
			return { type: 'connected', host: state.info.host, version: state.info.version };
		case 'reconnecting':
			return {
				type: 'reconnecting',
				attempt: state.attempt,
				delayMs: state.delayMs,
				...(state.lastError !== undefined ? { lastError: state.lastError } : {}),
			};
		case 'failed':
			return { type: 'failed', message: state.error.message };
	}
}

/** True when retrying cannot help (wrong token, refused, unverifiable agent). */
export function isPermanentError(error: unknown): boolean {
	return error instanceof BerthError && error.isPermanent;
}
