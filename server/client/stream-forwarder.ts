import { BerthError, HandshakeReason, assertNever, errorMessage } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import { formatHostPort } from '../../protocol/host-port';
import type {
	AddForwardParams,
	AgentClientInfo,
	AgentMethods,
	ForwardInfo,
	ServerInfo,
} from '../../protocol/rpc';
import type { AgentEndpoint } from './dial';
import { countOpenFiles, readOpenFilesLimit } from './fd-limit';
import type { LocalForwardSpec } from './forward-spec';
import type { Forwarder, ForwardFailure } from './forwarder';
import type { LinkState } from './link-state';
import { LocalForwards, type OpenFiles } from './local-forwards';
import { RemoteForwardsClient } from './remote-forwards-client';
import { isPermanentError, reconnectDelayMs, retry, type RetryOutcome, type RetryRun } from './retry';
import { isStaleSession, staleSessionMessage } from './stale-session';
import { StreamSession } from './stream-session';
import { bindHosts } from './forward-loop';
import { openLocalForward } from './open-local-forward';
import { OwnForwards } from './own-forwards';
import { targetPlace, type TargetWhere } from './target-locality';
import type { ProxyCredentials } from '../shared/proxy/proxy-credentials';
import type { Logger } from '../shared/log';
import { SessionProxyRoute } from './session-proxy-route';
import { ClientEgress } from './client-egress';
import { createNullLogger } from '../shared/log';
import type { MuxStream } from '../../protocol/mux-stream';
import type { OpenTarget } from '../../protocol/mux-frames';
import type { DynamicForwardSpec } from './forward-spec';
import { LocalProxies } from './local-proxies';
import type { ProxyInfo } from './proxy-info';
import { ReverseProxiesClient } from './reverse-proxies-client';

/** Where the agent binds a reverse forward whose spec names no address (its own default). */
const DEFAULT_REMOTE_BIND = '127.0.0.1';
/** Times a reverse forward on any port is asked for again when the agent's pick would loop. */
const MAX_REMOTE_PORT_PICKS = 3;

/** Where the forwarder's link to the agent stands. */
export type ForwarderState = LinkState;

/**
 * Forwards carried as streams over one stream session with the agent: every local connection
 * of every -L forward becomes a stream (no new socket, no handshake), and the agent's -R
 * listeners send theirs back the same way. This class owns the session and its one reconnection
 * loop (VS Code's backoff schedule). When the socket drops, the session is resumed: its streams,
 * the agent's listeners and every local connection go on where they were, and connections made
 * meanwhile become streams at once. When the agent no longer holds the session (it restarted,
 * or its grace ran out) the streams reset with that reason, a new session is opened, the remote
 * forwards are asked for again, and local connections made meanwhile wait for it (up to 10 s;
 * see LocalForwards).
 */
export class StreamForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidChangeState = this._register(new Emitter<ForwarderState>());
	readonly onDidChangeState = this._onDidChangeState.event;
	private readonly _onDidChangeProxy = this._register(new Emitter<ProxyInfo>());
	/** A proxy port was added or removed, or its counters moved (throttled). */
	readonly onDidChangeProxy = this._onDidChangeProxy.event;

	private current: StreamSession | undefined;
	/** Subscriptions to the current session's events. */
	private sessionEvents: DisposableStore | undefined;
	private currentState: ForwarderState;
	private renewal: RetryRun<Reconnected> | undefined;
	private readonly locals: LocalForwards;
	/** The -D proxies: listeners here whose connections leave from the agent. */
	private readonly proxies: LocalProxies;
	/** The -R PORT proxies: ports on the agent whose connections leave from here. */
	private readonly reverseProxies: ReverseProxiesClient;
	/** The agent's network identity and name, from its latest session. */
	private agentNetwork: string;
	private agentHost: string;
	/** What the agent said of itself when the current session opened. */
	private lastInfo: ServerInfo;

	private constructor(
		private readonly endpoint: AgentEndpoint & { readonly own: OwnForwards },
		private readonly remotes: RemoteForwardsClient,
		private readonly egress: ClientEgress,
		openFiles: OpenFiles,
		session: StreamSession,
		info: ServerInfo,
		ownsOwn: boolean,
	) {
		super();
		this._register(remotes);
		this._register(egress);
		if (ownsOwn) {
			this._register(endpoint.own);
		}
		this.agentNetwork = session.api.agentNetwork;
		this.agentHost = info.host;
		this.locals = this._register(
			new LocalForwards({ timers: endpoint.timers, session: () => this.current, openFiles }),
		);
		this.proxies = this._register(
			new LocalProxies({
				timers: endpoint.timers,
				own: endpoint.own,
				declared: () => this.current?.api.declared() ?? Promise.resolve(),
			}),
		);
		this.reverseProxies = new ReverseProxiesClient(() => egress.counters);
		this._register(this.proxies.onDidChange((info) => this._onDidChangeProxy.fire(info)));
		this._register(
			egress.onDidChangeCounters(() => {
				for (const info of this.reverseProxies.list()) {
					this._onDidChangeProxy.fire(info);
				}
			}),
		);
		for (const part of [this.locals, this.remotes]) {
			this._register(part.onDidChange((e) => this._onDidChange.fire(e)));
			this._register(part.onDidFailConnection((e) => this._onDidFailConnection.fire(e)));
		}
		this.currentState = { type: 'connected', info, renewed: false, sameNetwork: session.sameNetwork };
		this.lastInfo = info;
		this.adopt(session);
		this._register({
			dispose: () => {
				this.renewal?.dispose();
				this.sessionEvents?.dispose();
				this.current?.close();
			},
		});
	}

	/**
	 * Opens the first session; fails at once if the agent cannot be reached or refuses. Its
	 * forwards are checked against `endpoint.own` (this client's forwards on every agent), or
	 * against its own alone when the endpoint has none.
	 */
	static async start(endpoint: AgentEndpoint): Promise<StreamForwarder> {
		// The agent may open streams for remote forwards as soon as the session is up.
		const remotes = new RemoteForwardsClient(endpoint.timers);
		const egress = new ClientEgress(
			endpoint.timers,
			endpoint.log ?? createNullLogger(),
			undefined,
			endpoint.upstream,
		);
		const own = endpoint.own ?? new OwnForwards();
		const withOwn = { ...endpoint, own };
		try {
			const { session, info } = await StreamSession.connect(withOwn, (stream, target) =>
				incoming(remotes, egress, stream, target),
			);
			const openFiles = { limit: readOpenFilesLimit(), baseline: countOpenFiles() };
			return new StreamForwarder(withOwn, remotes, egress, openFiles, session, info, own !== endpoint.own);
		} catch (error) {
			remotes.dispose();
			egress.dispose();
			if (own !== endpoint.own) {
				own.dispose();
			}
			throw error;
		}
	}

	get state(): ForwarderState {
		return this.currentState;
	}

	/**
	 * While reconnecting: the next attempt starts now instead of after its wait. A held session
	 * is resumed (its connections go on), where closing and connecting again would lose them.
	 */
	reconnectNow(): void {
		this.renewal?.tryNow();
	}

	/** The current session (for RPC such as `listeningPorts`), when connected. */
	get session(): StreamSession | undefined {
		return this.current;
	}

	list(): ForwardInfo[] {
		return [...this.locals.list(), ...this.remotes.list()];
	}

	/** Whether the agent shares this client's loopback (see LinkState). */
	get sameNetwork(): boolean {
		return this.agentNetwork === this.endpoint.own.network;
	}

	/**
	 * Listens here and carries each connection to spec.host:spec.port from the agent's side.
	 * @throws BerthError BERTH_ERR_LOOP when it would reach one of this client's listeners, or
	 *   listen where one of its forwards leads; BERTH_ERR_LISTEN when the port cannot be opened.
	 */
	async addLocal(spec: LocalForwardSpec): Promise<ForwardInfo> {
		const own = this.endpoint.own;
		const target = await targetPlace(spec.host, spec.port, this.where(this.agentNetwork));
		return openLocalForward({
			spec,
			own,
			target,
			declared: () => this.current?.api.declared() ?? Promise.resolve(),
			listen: (chosen, reservation) => this.locals.add(chosen, reservation),
		});
	}

	/**
	 * Has the agent listen and carry each connection back to params.target* on this side.
	 * @throws BerthError BERTH_ERR_LOOP (see addLocal); what the agent answers.
	 */
	async addRemote(params: AddForwardParams): Promise<ForwardInfo> {
		const session = this.current;
		if (!session) {
			throw new BerthError('BERTH_ERR_CLOSED', 'not connected to the agent: try again once it is back');
		}
		const own = this.endpoint.own;
		const target = await targetPlace(params.targetHost, params.targetPort, this.where(own.network));
		const bindHost = params.bindHost ?? DEFAULT_REMOTE_BIND;
		const reserve = (port: number) =>
			own.reserve({
				label: `agent ${formatHostPort(bindHost, port)} -> ${formatHostPort(target.host, target.port)}`,
				listen: { network: this.agentNetwork, hosts: bindHosts(bindHost), port },
				target,
			});
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.remotes.add(session, params, reserve);
			} catch (error) {
				// The agent chose a port this client's forwards lead to: ask it for another.
				const loop = error instanceof BerthError && error.code === 'BERTH_ERR_LOOP';
				if (!loop || params.bindPort !== 0 || attempt >= MAX_REMOTE_PORT_PICKS) {
					throw error;
				}
			}
		}
	}

	/**
	 * A SOCKS5 + HTTP proxy listening here (ssh's -D): each connection becomes a stream, and its
	 * traffic leaves from the agent. Lives until `removeProxy` or the end of this forwarder;
	 * connections made while the agent is away wait for it as -L's do.
	 * @throws BerthError BERTH_ERR_LISTEN when the port cannot be opened, BERTH_ERR_LOOP when one
	 *   of this client's forwards leads to it.
	 */
	async addProxy(
		spec: DynamicForwardSpec,
		credentials: ProxyCredentials = {},
		log: Logger = this.endpoint.log ?? createNullLogger(),
	): Promise<ProxyInfo> {
		const route = new SessionProxyRoute({
			session: () => this.current,
			onDidConnect: (listener) =>
				this.onDidChangeState((state) => (state.type === 'connected' ? listener(state) : undefined)),
			timers: this.endpoint.timers,
		});
		return this.proxies.add(spec, route, credentials, log.fork('proxy'));
	}

	/** This forwarder's proxy ports, both ways, with their counters. */
	listProxies(): ProxyInfo[] {
		return [...this.proxies.list(), ...this.reverseProxies.list()];
	}

	/**
	 * Closes a -D proxy and its connections; false when `id` is none. A reverse proxy (-R PORT)
	 * lives as long as this forwarder's session: the agent closes it only with the session.
	 */
	removeProxy(id: string): boolean {
		return this.proxies.remove(id);
	}

	/**
	 * Reverse proxy mode (`berth client -r`): this client becomes an exit for the agent's proxy
	 * port; the agent's connections arrive as streams and leave from this host. Offered again on
	 * every renewed session.
	 * @throws what the agent answers (BERTH_ERR_USAGE when it runs no reverse proxy).
	 */
	async provideEgress(name?: string, connectorTokens: readonly string[] = []): Promise<void> {
		this.egressParams = {
			...(name === undefined ? {} : { name }),
			...(connectorTokens.length > 0 ? { connectorTokens } : {}),
		};
		this.egress.enable();
		await this.connected().rpc.request('provideEgress', this.egressParams);
	}

	/** What this provider declared (name, and in autonomy mode its connector tokens), said again on renewal. */
	private egressParams: AgentMethods['provideEgress']['params'] = {};

	/** After a renewal: a provider declares itself again (the agent forgot it with the old session). */
	private offerEgress(session: StreamSession): void {
		if (!this.egress.isEnabled) {
			return;
		}
		session.rpc.request('provideEgress', this.egressParams).catch((error: unknown) => {
			this._onDidFailConnection.fire({
				id: 'egress',
				message: `the agent refused this provider: ${errorMessage(error)}`,
			});
		});
	}

	/**
	 * ssh's dynamic reverse forward (`-R [BIND:]PORT`): a SOCKS5 + HTTP proxy port on the agent
	 * whose connections leave from this host. Opened again on every renewed session (on the port
	 * it got first).
	 * @throws what the agent answers (BERTH_ERR_USAGE for a bind it does not allow, BERTH_ERR_LISTEN).
	 */
	async addReverseProxy(spec: DynamicForwardSpec): Promise<ProxyInfo> {
		this.egress.enable();
		const info = await this.reverseProxies.add(this.connected(), spec);
		this._onDidChangeProxy.fire(info);
		return info;
	}

	/** The agent's clients now (this forwarder's session marked `isSelf`). */
	async listClients(): Promise<AgentClientInfo[]> {
		return this.connected().listClients();
	}

	/** Ends another client's session on the agent; it is not banned, and may reconnect. */
	async disconnectClient(id: string): Promise<void> {
		return this.connected().disconnectClient(id);
	}

	private connected(): StreamSession {
		if (!this.current) {
			throw new BerthError('BERTH_ERR_CLOSED', 'not connected to the agent: try again once it is back');
		}
		return this.current;
	}

	private where(network: string): TargetWhere {
		const { own, timers } = this.endpoint;
		return { network, clientNetwork: own.network, timers, agentHost: this.agentHost };
	}

	/** @throws BerthError when the agent did not confirm closing a remote forward (it has left the list anyway). */
	async remove(id: string): Promise<void> {
		if (!this.locals.remove(id)) {
			await this.remotes.remove(this.current, id);
		}
	}

	private setState(state: ForwarderState): void {
		this.currentState = state;
		this._onDidChangeState.fire(state);
	}

	private adopt(session: StreamSession): void {
		this.current = session;
		this.agentNetwork = session.api.agentNetwork;
		this.sessionEvents?.dispose();
		const events = (this.sessionEvents = new DisposableStore());
		events.add(session.rpc.onDidReceiveEvent((event) => this.remotes.receive(event)));
		events.add(session.onDidClose((e) => this.lost(session, e.error?.message ?? 'the session ended')));
		events.add(session.onDidLoseConnection((e) => this.reconnect(e.reason)));
		this.locals.release();
	}

	/** The session ended for good: its streams are gone; a new one is opened (unless the loop runs already). */
	private lost(session: StreamSession, reason: string): void {
		if (this.current !== session) {
			return;
		}
		this.current = undefined;
		this.sessionEvents?.dispose();
		this.sessionEvents = undefined;
		this.remotes.sessionLost();
		this.reconnect(reason);
	}

	/**
	 * What ends a renewal: a permanent error, except that a refusal of the token is tried again
	 * `tokenRefusalRetries` times (a connector whose autonomy agent waits for the provider to
	 * declare its token again).
	 */
	private refusalIsFinal(): (error: unknown) => error is BerthError {
		let retries = this.endpoint.tokenRefusalRetries ?? 0;
		return (error): error is BerthError => {
			if (!isPermanentError(error)) {
				return false;
			}
			const tokenRefused =
				error.code === 'BERTH_ERR_HANDSHAKE_REFUSED' && error.reason === HandshakeReason.AuthMismatch;
			return !tokenRefused || retries-- <= 0;
		};
	}

	/**
	 * The one reconnection loop: resume the session while the agent may still hold it, else (or
	 * once the agent says it does not) open a new one, on VS Code's schedule, until one works or a
	 * refusal needs a human.
	 */
	private reconnect(reason: string): void {
		if (this.renewal || this.isDisposed) {
			return;
		}
		this.renewal = retry({
			timers: this.endpoint.timers,
			firstError: reason,
			attempt: () => this.resumeOrRenew(),
			schedule: reconnectDelayMs,
			isPermanent: this.refusalIsFinal(),
			onWait: (wait) =>
				this.setState({ type: 'reconnecting', resuming: this.current !== undefined, ...wait }),
			discard: (done) => (done.type === 'renewed' ? done.session.close() : undefined),
		});
		void this.renewal.outcome.then((outcome) => {
			this.renewal = undefined;
			this.reconnected(outcome);
		});
	}

	/** One attempt: resume the current session, or (when the agent no longer holds it) a new session. */
	private async resumeOrRenew(): Promise<Reconnected> {
		const session = this.current;
		if (session?.mayResume) {
			try {
				await session.resume();
				return { type: 'resumed' };
			} catch (error) {
				if (!isStaleSession(error)) {
					throw error;
				}
				session.end(new BerthError('BERTH_ERR_CLOSED', staleSessionMessage(error)));
			}
		} else if (session) {
			const graceSeconds = Math.round(session.reconnectionGraceMs / 1000);
			session.end(
				new BerthError(
					'BERTH_ERR_CLOSED',
					`the agent was unreachable for longer than its grace time (${graceSeconds} s); connections were lost`,
				),
			);
		}
		const { session: fresh, info } = await StreamSession.connect(this.endpoint, (stream, target) =>
			incoming(this.remotes, this.egress, stream, target),
		);
		return { type: 'renewed', session: fresh, info };
	}

	private reconnected(outcome: RetryOutcome<Reconnected>): void {
		switch (outcome.type) {
			case 'succeeded':
				if (outcome.value.type === 'resumed') {
					const info = this.lastInfo;
					this.setState({
						type: 'connected',
						info,
						renewed: false,
						resumed: true,
						sameNetwork: this.sameNetwork,
					});
					return;
				}
				this.renewed(outcome.value.session, outcome.value.info);
				return;
			case 'refused':
				// A refusal that needs a human (a revoked token): the held streams cannot go on either.
				this.current?.end(outcome.error);
				this.setState({ type: 'failed', error: outcome.error });
				return;
			case 'exhausted': // VS Code's schedule never gives up
			case 'cancelled':
				return;
		}
	}

	private renewed(session: StreamSession, info: ServerInfo): void {
		if (this.isDisposed) {
			session.close();
			return;
		}
		this.agentHost = info.host;
		this.lastInfo = info;
		this.adopt(session);
		this.setState({ type: 'connected', info, renewed: true, sameNetwork: session.sameNetwork });
		this.remotes.restore(session);
		this.offerEgress(session);
		this.reverseProxies.restore(session, (message) =>
			this._onDidFailConnection.fire({ id: 'reverse-proxy', message }),
		);
	}
}

/** How a reconnection attempt succeeded: the same session on a new socket, or a new session. */
type Reconnected =
	| { readonly type: 'resumed' }
	| { readonly type: 'renewed'; readonly session: StreamSession; readonly info: ServerInfo };

/** A stream the agent opened: a reverse forward's connection, or (reverse proxy mode) one to carry out. */
function incoming(
	remotes: RemoteForwardsClient,
	egress: ClientEgress,
	stream: MuxStream,
	target: OpenTarget,
): void {
	switch (target.kind) {
		case 'reverse':
			remotes.accept(stream, target);
			return;
		case 'tcp':
		case 'udp':
			egress.accept(stream, target);
			return;
		default:
			assertNever(target, 'stream target');
	}
}
