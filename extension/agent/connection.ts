/**
 * The extension's one door to Berth's client library (server/client): every Forwarder, dial and
 * URL parse goes through this file, so the Forwarder implementation and the agent's port
 * detection are wired in one place (connection-proxies.ts works on the forwarders made here,
 * agent-reports.ts on the session of the one made here).
 */

import { hostname } from 'node:os';
import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter, type Event } from '../../protocol/lifecycle';
import { formatHostPort } from '../../protocol/host-port';
import type { AddForwardParams, AgentClientInfo, ForwardInfo, ListeningPort } from '../../protocol/rpc';
import { defaultSessionName } from '../../protocol/session-name';
import { ConnectionType } from '../../protocol/wire';
import {
	StreamForwarder,
	TunnelForwarder,
	createNodeTimers,
	dial,
	fetchAgentCommit,
	parseAgentUrl,
	readTokenClaims,
	type AgentEndpoint,
	type Forwarder,
	type LinkState,
	type OwnForwards,
	type ProxyInfo,
	type StreamSession,
	type TlsTrust,
} from '../../server/client/index';
import { tokenProblemOf, type TokenProblem } from '../error-text';
import type { ExtensionLogger } from '../logger';
import { AgentReports } from './agent-reports';
import { statusWithTunnel, type AgentTunnel } from './agent-tunnel';
import { ConnectionProxies } from './connection-proxies';
import { LinkOutages, type OutageSummary, type ReconnectingStatus } from './link-outages';

/** Whom a connection talks to: a Berth agent (verified), or a VS Code server (`--peer vscode`). */
export type PeerKind = 'berth' | 'vscode';

/** The id of the agent this window runs itself. */
export const LOCAL_AGENT_ID = 'local';

/**
 * Who this window is to the agents: the name it gives in `hello` (their owners' client lists) and
 * its forwards on every agent (one OwnForwards per window, so a forward through one agent cannot
 * lead to this window's listener of a forward through another).
 */
export interface WindowIdentity {
	readonly clientName: string;
	readonly own: OwnForwards;
}

/** An agent to connect to. */
export interface AgentTarget {
	/** LOCAL_AGENT_ID, or the URL without secrets (from `agentIdForUrl`). */
	readonly id: string;
	readonly url: string;
	/** Never logged; undefined for an agent without a token. */
	readonly token: string | undefined;
	readonly peer: PeerKind;
	readonly isLocal: boolean;
	/** The agent key's fingerprint an init URL pinned: the agent must prove it holds that key on every dial. */
	readonly agentKeyPin?: string;
	/** An init URL's session-name prefix: the session is named it and this host's name (`alice-laptop`). */
	readonly sessionPrefix?: string;
	/** How a `wss://` agent's certificate is checked (`berth.tls.caFile`); Node's CA store by default. */
	readonly tls?: TlsTrust;
	/**
	 * An agent on an ssh host (Connect to Host via SSH...): the host as the user named it. Such a
	 * connection goes through an AgentTunnel of its own; Reconnect hurries the tunnel's next ssh
	 * attempt and resumes the session through it (a tunnel that failed for good is opened anew).
	 */
	readonly ssh?: { readonly host: string };
}

/** Where a connection stands. */
export type ConnectionStatus =
	| {
			readonly type: 'connected';
			readonly host?: string;
			readonly version?: string;
			/** The link's drops since connecting, once there was one. */
			readonly drops?: OutageSummary;
	  }
	| ReconnectingStatus
	| {
			readonly type: 'failed';
			readonly message: string;
			/** The agent refused the token for good: only signing in again helps. */
			readonly tokenProblem?: TokenProblem;
	  };

/** One forwarded connection failed: the forward (when still known) and the agent's words. */
export interface ConnectionFailure {
	readonly forward: ForwardInfo | undefined;
	readonly message: string;
}

/**
 * A drop the session did not survive: the agent no longer held it, so the connections open then
 * were reset; `reason` is what they were told ("the agent restarted; connections were lost").
 */
export interface SessionLoss {
	readonly reason: string;
}

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

/** The agent's URL, host and port for messages (error-text.ts's AgentRef). @throws like agentIdForUrl. */
export function agentRefForUrl(url: string): { url: string; host: string; port: number } {
	const address = parseAgentUrl(url);
	return { url: address.display, host: address.host, port: address.port };
}

/** Time allowed for the reachability check before the token is asked for. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Checks that something answers at the agent's URL (`GET /version`, which needs no token, on a
 * Berth agent and on a VS Code server alike) before the user is asked for a token.
 * @throws BerthError BERTH_ERR_CONNECT (with the socket error as its cause) when nothing answers.
 */
export async function probeAgent(url: string, tls?: TlsTrust): Promise<void> {
	await fetchAgentCommit(parseAgentUrl(url), PROBE_TIMEOUT_MS, tls);
}

/**
 * The Forwarder for an agent: a Berth agent carries every forwarded connection as a stream of one
 * session; a VS Code server gets one Tunnel connection per forwarded connection, VS Code's way.
 */
async function createForwarder(endpoint: AgentEndpoint): Promise<Forwarder> {
	return endpoint.peer === 'vscode' ? new TunnelForwarder(endpoint) : StreamForwarder.start(endpoint);
}

/**
 * One connected agent: its forwarder, with live counters, and for a Berth agent what the agent
 * reports over the forwarder's one stream session (status, listening ports, clients). That
 * session carries the forwards and the RPC both, and the forwarder renews it with backoff: one
 * session and one reconnection loop per agent. A VS Code server (`peer: vscode`) has no Berth
 * RPC: it is checked once with a handshake and then only forwarded through.
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
	private readonly _onDidFailConnection = this._register(new Emitter<ConnectionFailure>());
	/** A forwarded connection failed (nothing listening at the target, …); the forward goes on. */
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidLoseSession = this._register(new Emitter<SessionLoss>());
	/**
	 * The link came back on a new session after connections were lost with the old one (once per
	 * drop; a drop that resumed never fires it).
	 */
	readonly onDidLoseSession = this._onDidLoseSession.event;
	/** A proxy port was added or stopped, or its counters moved. */
	readonly onDidChangeProxy: Event<ProxyInfo>;
	private readonly proxyPorts: ConnectionProxies;
	/** The email of the user this window is signed in as (a user token's claim); undefined for a connection token. */
	readonly user: string | undefined;
	/** A Berth agent's forwarder: its session is this window's only one with the agent (proxy ports aside). */
	private readonly streams: StreamForwarder | undefined;
	/** What a Berth agent reports over that session; undefined for a VS Code server. */
	private readonly reports: AgentReports | undefined;
	/** The link's drops (a Berth agent's; a VS Code server's Tunnel connections have no session to drop). */
	private readonly outages: LinkOutages;

	private constructor(
		readonly target: AgentTarget,
		private readonly forwarder: Forwarder,
		log: ExtensionLogger,
		endpoint: AgentEndpoint,
		private readonly tunnel: AgentTunnel | undefined,
	) {
		super();
		if (tunnel) {
			// Registered first: the forwarder stops before the tunnel under it closes.
			this._register(tunnel);
			this._register(
				tunnel.onDidChangeState((state) => {
					// The way to the agent is back: the session resumes now, not at its next scheduled try.
					if (state.type === 'connected') {
						this.streams?.reconnectNow();
					}
					this._onDidChangeStatus.fire(this.status);
				}),
			);
		}
		this.user = signedInUser(target.token);
		this._register(forwarder);
		this.onDidChangeForward = forwarder.onDidChange;
		this.streams = forwarder instanceof StreamForwarder ? forwarder : undefined;
		this.proxyPorts = this._register(
			new ConnectionProxies(this.streams, () => StreamForwarder.start(endpoint), log),
		);
		this.onDidChangeProxy = this.proxyPorts.onDidChange;
		this.outages = new LinkOutages(() => endpoint.timers.now());
		this._register(
			forwarder.onDidFailConnection((failure) => {
				const forward = forwarder.list().find((f) => f.id === failure.id);
				log.warn(`${forward ? describeForward(forward) : 'a forward'}: ${failure.message}`);
				// A failure during a drop is the drop's doing, not the target's: said once, if the session was lost.
				if (!this.outages.attribute(failure.message)) {
					this._onDidFailConnection.fire({ forward, message: failure.message });
				}
			}),
		);
		if (this.streams) {
			const reports = (this.reports = this._register(new AgentReports(this.streams, log)));
			this._register(this.streams.onDidChangeState((state) => this.onLinkState(state)));
			this._register(reports.onDidChangePorts((ports) => this._onDidChangePorts.fire(ports)));
			this._register(reports.onDidChangeClients(() => this._onDidChangeClients.fire(this.otherClients)));
		}
	}

	/**
	 * Connects and checks the agent: a Berth agent must answer Berth's handshake (sign the client's
	 * challenge); a VS Code server must accept the token and its own commit. With a `tunnel`, the
	 * agent is reached at its address, and the connection owns it (disposed if this fails too).
	 * @throws BerthError: BERTH_ERR_CONNECT, BERTH_ERR_HANDSHAKE_REFUSED, BERTH_ERR_SERVER_UNVERIFIED, …
	 */
	static async open(
		target: AgentTarget,
		log: ExtensionLogger,
		window: WindowIdentity,
		tunnel?: AgentTunnel,
	): Promise<Connection> {
		try {
			return await Connection.connect(target, log, window, tunnel);
		} catch (error) {
			tunnel?.dispose();
			throw error;
		}
	}

	private static async connect(
		target: AgentTarget,
		log: ExtensionLogger,
		window: WindowIdentity,
		tunnel: AgentTunnel | undefined,
	): Promise<Connection> {
		const address = tunnel?.address ?? parseAgentUrl(target.url);
		const timers = createNodeTimers();
		const commit =
			target.peer === 'vscode' ? await fetchAgentCommit(address, undefined, target.tls) : undefined;
		const endpoint: AgentEndpoint = {
			address,
			token: tunnel?.token ?? target.token,
			mode: 'tcp',
			peer: target.peer,
			timers,
			clientName: window.clientName,
			own: window.own,
			...(commit !== undefined ? { commit } : {}),
			...(target.agentKeyPin !== undefined ? { agentKeyPin: target.agentKeyPin } : {}),
			// Shown beside the signed-in user in the agent's client list, as the CLI names its sessions.
			sessionName: defaultSessionName(target.sessionPrefix ?? '', hostname()),
			...(target.tls !== undefined ? { tls: target.tls } : {}),
		};
		if (target.peer === 'vscode') {
			const { transport } = await dial(endpoint, { connectionType: ConnectionType.Management });
			transport.dispose();
			log.warn(`${address.display} is a VS Code server: it cannot sign, so its identity is not verified`);
		}
		const forwarder = await createForwarder(endpoint);
		try {
			return new Connection(target, forwarder, log, endpoint, tunnel);
		} catch (error) {
			forwarder.dispose();
			throw error;
		}
	}

	/** The forwarder's session's status (a VS Code server's is always connected), through the tunnel's (statusWithTunnel). */
	/**
	 * Reconnect: while the agent holds this window's session, the next attempt to resume it starts
	 * now, and its connections go on; through ssh, the tunnel's next attempt starts now too, and the
	 * session resumes once it is back. False when there is nothing held to resume (connect anew),
	 * or the tunnel failed for good.
	 */
	resumeNow(): boolean {
		const state = this.streams?.state;
		if (state?.type !== 'reconnecting' || !state.resuming || this.tunnel?.state.type === 'failed') {
			return false;
		}
		this.tunnel?.reconnectNow();
		this.streams!.reconnectNow();
		return true;
	}

	get status(): ConnectionStatus {
		const state = this.streams?.state;
		return statusWithTunnel(
			state ? toStatus(state, this.outages) : { type: 'connected' },
			this.tunnel?.state,
		);
	}

	/** Counts the drops, and tells once of one whose session was lost with connections open. */
	private onLinkState(state: LinkState): void {
		const ended = this.outages.observe(state);
		this._onDidChangeStatus.fire(this.status);
		if (ended?.end === 'lost' && ended.failure !== undefined) {
			this._onDidLoseSession.fire({ reason: ended.failure });
		}
	}

	/**
	 * The agent's clients other than this window: it counts every session, and this window holds
	 * (for a Berth agent) the forwarder's and one per shared-network port.
	 */
	get otherClients(): number {
		const own = (this.streams ? 1 : 0) + this.proxyPorts.extraSessions;
		return Math.max(0, (this.reports?.clients ?? 0) - own);
	}

	get forwards(): ForwardInfo[] {
		return this.forwarder.list();
	}

	/** Ports listening on the agent's host; undefined until known, or when the agent cannot tell. */
	get listeningPorts(): readonly ListeningPort[] | undefined {
		return this.reports?.ports;
	}

	/** @throws BerthError BERTH_ERR_LISTEN when the local port cannot be opened. */
	addLocal(request: LocalForwardRequest): Promise<ForwardInfo> {
		return this.forwarder.addLocal(request);
	}

	/**
	 * Has the agent listen on `params.bindPort` and carry each connection back here (ssh -R).
	 * @throws BerthError BERTH_ERR_USAGE for a VS Code server (it has no reverse forwards), or what the agent refused.
	 */
	addRemote(params: AddForwardParams): Promise<ForwardInfo> {
		return this.forwarder.addRemote(params);
	}

	remove(forwardId: string): Promise<void> {
		return this.forwarder.remove(forwardId);
	}

	/** Its proxy ports, both ways (empty for a VS Code server). */
	get proxies(): ProxyInfo[] {
		return this.proxyPorts.list();
	}

	/**
	 * Start SOCKS Proxy: SOCKS5 and HTTP on 127.0.0.1:`port` here (0: any free port), traffic
	 * leaving from the agent. @throws see ConnectionProxies.startSocks.
	 */
	startSocksProxy(port: number): Promise<ProxyInfo> {
		return this.proxyPorts.startSocks(port);
	}

	/**
	 * Share This Machine's Network: a proxy port on the agent's 127.0.0.1:`port` (0: the agent
	 * picks), traffic leaving from here. @throws see ConnectionProxies.share.
	 */
	shareNetwork(port: number): Promise<ProxyInfo> {
		return this.proxyPorts.share(port);
	}

	/** Stops a proxy port and its connections; false when there is none by that id. */
	stopProxy(proxyId: string): boolean {
		return this.proxyPorts.stop(proxyId);
	}

	/**
	 * Who is connected to the agent (`listClients`), checked; this window's sessions included.
	 * @throws BerthError BERTH_ERR_CLOSED while the session is down, BERTH_ERR_RPC_UNKNOWN_METHOD from an older agent.
	 */
	async listClients(): Promise<AgentClientInfo[]> {
		return this.currentSession().listClients();
	}

	/** Ends a client's session on the agent (`disconnectClient`). @throws like listClients. */
	async disconnectClient(sessionId: string): Promise<void> {
		return this.currentSession().disconnectClient(sessionId);
	}

	/** Whether the agent shares this window's loopback (this machine's agent, or another on this host). */
	get sameNetwork(): boolean {
		return this.target.isLocal || (this.streams?.sameNetwork ?? false);
	}

	private currentSession(): StreamSession {
		const session = this.streams?.session;
		if (!session) {
			throw new BerthError(
				'BERTH_ERR_CLOSED',
				`not connected to ${this.target.id} now: try again once it is back`,
			);
		}
		return session;
	}
}

function toStatus(state: LinkState, outages: LinkOutages): ConnectionStatus {
	switch (state.type) {
		case 'connected': {
			const drops = outages.summary;
			return {
				type: 'connected',
				host: state.info.host,
				version: state.info.version,
				...(drops ? { drops } : {}),
			};
		}
		case 'reconnecting': {
			const outageMs = outages.outageMs;
			return {
				type: 'reconnecting',
				attempt: state.attempt,
				delayMs: state.delayMs,
				...(state.lastError !== undefined ? { lastError: state.lastError } : {}),
				...(state.resuming !== undefined ? { resuming: state.resuming } : {}),
				...(outageMs !== undefined ? { outageMs } : {}),
			};
		}
		case 'failed': {
			const tokenProblem = tokenProblemOf(state.error);
			return { type: 'failed', message: state.error.message, ...(tokenProblem ? { tokenProblem } : {}) };
		}
	}
}

/**
 * Whom a token signs in: a user token's `email` claim, read without verifying (the agent verifies
 * it on every connection; this is for showing only). Undefined for a connection token, or a
 * token whose payload cannot be read.
 */
function signedInUser(token: string | undefined): string | undefined {
	if (token === undefined) {
		return undefined;
	}
	try {
		return readTokenClaims(token).email || undefined;
	} catch {
		return undefined;
	}
}

/** A forward for the log: its ports, not its id (`127.0.0.1:8080 → localhost:3000`). */
export function describeForward(forward: ForwardInfo): string {
	const bind = formatHostPort(forward.bindHost, forward.bindPort);
	const target = formatHostPort(forward.targetHost, forward.targetPort);
	return forward.direction === 'local'
		? `forward ${bind} → ${target}`
		: `reverse forward agent ${bind} → ${target}`;
}
