import { BerthError, assertNever, errorMessage } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import { formatHostPort } from '../../protocol/host-port';
import { Disposable, DisposableStore, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { MessageLimits } from '../../protocol/message-reader';
import { Mux } from '../../protocol/mux';
import { MUX_VERSION, parseMuxArgs, ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { AgentEvents, AgentMethods } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import type { Timers } from '../../protocol/timers';
import { ConnectionType } from '../../protocol/wire';
import type { TargetPolicy } from '../shared/target-policy';
import { RemoteForwards } from '../forward/remote-forwards';
import type {
	ConnectionOutcome,
	ConnectionRequest,
	ConnectionTypeHandler,
	HandshakeReply,
} from '../handshake/connection-types';
import type { Logger } from '../shared/log';
import type { AgentRpc } from '../management/agent-methods';
import type { ClientSession } from '../agent-clients';
import { connectTarget } from '../shared/connect-target';
import { resetCodeFor } from '../shared/reset-code';
import { bridgeFailure } from '../shared/bridge-failure';
import { StreamSocketBridge, type BridgeObserver } from '../shared/stream-socket-bridge';
import { createConnectCanceller } from '../shared/connect-canceller';
import { UdpEgress } from '../shared/proxy/udp-egress';
import type { ProviderPool } from '../forward/provider-pool';
import type { ConnectorTokens } from '../connector-tokens';
import type { Upstream } from '../shared/upstream';
import { ReverseProxies } from '../forward/reverse-proxies';
import { connectorTokenOf, samePrincipal, type Principal } from '../handshake/connection-types';
import { ResumableSessions } from '../sessions/resumable-sessions';
import { ResumableAgentSession } from '../sessions/resumable-agent-session';
import { StreamPairBridge } from '../shared/stream-pair-bridge';

export interface MuxConnectionsOptions {
	readonly timers: Timers;
	readonly log: Logger;
	readonly limits: MessageLimits;
	readonly policy: TargetPolicy;
	readonly allowRemoteBind: boolean;
	/** The reverse proxy's providers (`berth server -r`); without it `provideEgress` is refused. */
	readonly providers?: ProviderPool;
	/** Relay mode's connector tokens: a connector's session ends when its token is removed. */
	readonly connectorTokens?: ConnectorTokens;
	/** The proxy every TCP target is reached through (`--upstream`). */
	readonly upstream?: Upstream;
	/** Autonomy mode (`berth server -r -a`): providers declare connector tokens that reach them only. */
	readonly autonomy?: boolean;
	/** How long a session whose socket dropped waits for its client, its streams and listeners held. */
	readonly graceMs: number;
	/** The wait once another client of the same holder connected. */
	readonly shortGraceMs: number;
	/** Sessions waiting for their client at once (default MAX_WAITING_SESSIONS). */
	readonly maxWaiting?: number;
	/** Registers the agent's methods for a session, given its description for the client list; disposed with it. */
	readonly serve: (rpc: AgentRpc, forwards: RemoteForwards, session: ClientSession) => IDisposable;
}

/**
 * Berth's stream sessions (connection type 32): one connection carries every forwarded TCP
 * connection of a client as a stream, plus RPC, instead of VS Code's socket-and-handshake per
 * connection. A session outlives its socket for the grace time, as Management's does: its
 * streams, their targets, its reverse listeners and UDP associations stay; streams wait (their
 * sources paused once their credit is spent) until the client resumes the session with its
 * reconnection token, and both sides replay what the other missed. Past the grace the session
 * ends: its streams reset and its listeners close.
 */
export class MuxConnections extends Disposable implements ConnectionTypeHandler {
	readonly id = ConnectionType.Mux;
	readonly name = 'Mux';
	/** A connector's session: its streams go to the providers (relay mode). */
	readonly acceptsConnectors = true;
	readonly acceptsUsers = true;
	private readonly _onDidChangeCounts = this._register(new Emitter<void>());
	/** A stream session started or ended. */
	readonly onDidChangeCounts = this._onDidChangeCounts.event;
	private readonly sessions: ResumableSessions<AgentMuxSession>;

	constructor(options: MuxConnectionsOptions) {
		super();
		this._register({ dispose: () => this.shutdown('the agent stopped') });
		this.sessions = this._register(
			new ResumableSessions({
				log: options.log,
				kind: 'streams',
				// A new session of the same holder (a new window, a restarted CLI) makes a waiting one
				// unlikely to come back; a sibling's resume says nothing of that.
				shortenOnNewSession: true,
				...(options.maxWaiting !== undefined ? { maxWaiting: options.maxWaiting } : {}),
				create: (number, token, request) =>
					new AgentMuxSession(number, token, request, options, (port) =>
						this.reclaim(request.principal, port),
					),
			}),
		);
		this._register(this.sessions.onDidChangeCounts(() => this._onDidChangeCounts.fire()));
	}

	/** Sessions with a socket, sessions waiting for their client, and the streams of both. */
	get counts(): { sessions: number; waiting: number; streams: number } {
		let streams = 0;
		for (const session of this.sessions.values()) {
			streams += session.streamCount;
		}
		const { connected, waiting } = this.sessions.counts;
		return { sessions: connected, waiting, streams };
	}

	/** Connectors' sessions now, by connector-token id. */
	connectorSessions(): Map<string, number> {
		const counts = new Map<string, number>();
		for (const session of this.sessions.values()) {
			const tokenId = session.connectorTokenId;
			if (tokenId !== undefined) {
				counts.set(tokenId, (counts.get(tokenId) ?? 0) + 1);
			}
		}
		return counts;
	}

	accept(request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome> {
		if (!parseMuxArgs(request.args)) {
			return Promise.resolve(
				reply.refuse(
					`Unsupported stream protocol: this agent speaks version ${MUX_VERSION} (args {"version":${MUX_VERSION},"features":[]}): use a client of the same Berth release`,
				),
			);
		}
		return Promise.resolve(this.sessions.accept(request, reply));
	}

	/**
	 * A session asks for a port that a waiting session of the same holder listens on: that client
	 * crashed or lost its network and started again, and will not resume the old session. It ends
	 * (its streams reset), so the port is free. Another holder's session is never ended.
	 */
	private reclaim(principal: Principal, port: number): boolean {
		for (const session of this.sessions.values()) {
			if (!session.isConnected && samePrincipal(session.principal, principal) && session.listensOn(port)) {
				session.endForPort(port);
				return true;
			}
		}
		return false;
	}

	/**
	 * Sends an event to every stream session, waiting ones too: a resumed session gets it in
	 * order with everything else it missed.
	 */
	broadcast<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		for (const session of this.sessions.values()) {
			session.emit(event, data);
		}
	}

	/** Tells every client the agent is stopping, then closes every session. */
	shutdown(reason: string): void {
		for (const session of [...this.sessions.values()]) {
			session.shutdown(reason);
		}
	}
}

/** The most connector tokens one provider may declare. */
const MAX_DECLARED_TOKENS = 16;

/** `provideEgress`'s `connectorTokens`: strings, at most MAX_DECLARED_TOKENS (checked by ConnectorTokens.add). */
function parseDeclaredTokens(params: unknown): string[] {
	const raw = isObject(params) ? params['connectorTokens'] : undefined;
	if (raw === undefined) {
		return [];
	}
	if (!Array.isArray(raw) || raw.length > MAX_DECLARED_TOKENS || !raw.every(isString)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`provideEgress: connectorTokens is a list of at most ${MAX_DECLARED_TOKENS} tokens`,
		);
	}
	return raw;
}

/** What a connector's session may not call: it only opens proxy streams (and says hello). */
const CONNECTOR_REFUSED_METHODS = [
	'listeningPorts',
	'listForwards',
	'addForward',
	'removeForward',
	'listClients',
	'disconnectClient',
	'declareListeners',
	'provideEgress',
	'addReverseProxy',
] as const;

/** One stream session on the agent. */
class AgentMuxSession extends ResumableAgentSession {
	/** Aborted when the session ends: connects to targets still under way give up at once. */
	private readonly connects = createConnectCanceller();
	private readonly mux: Mux;
	private readonly rpc: AgentRpc;

	private readonly forwards: RemoteForwards;

	constructor(
		number: number,
		token: string,
		request: ConnectionRequest,
		private readonly options: MuxConnectionsOptions,
		reclaim: (port: number) => boolean,
	) {
		super(number, token, request.principal, options.log.fork(`streams#${number}`), options);
		this._register({ dispose: () => this.connects.abort() });
		this.mux = this._register(
			new Mux({
				channel: this.session,
				role: 'agent',
				onOpen: (stream, target) => this.open(stream, target),
				onRpc: (bytes) => this.rpc.receive(bytes),
				onProtocolError: (message) => {
					this.log.warn('closing the session: the client broke the stream protocol', { error: message });
					this.dispose();
				},
			}),
		);
		this.rpc = this._register(
			new RpcEndpoint<AgentMethods, Record<string, never>, AgentEvents, Record<string, never>>({
				send: (bytes) => this.mux.sendRpc(bytes),
				timers: options.timers,
			}),
		);
		const forwards = (this.forwards = this._register(
			new RemoteForwards({
				mux: this.mux,
				allowRemoteBind: options.allowRemoteBind,
				log: this.log,
				timers: options.timers,
				onChange: (info) => this.rpc.emit('forwardChanged', info),
				reclaim,
			}),
		));
		this._register(options.serve(this.rpc, forwards, this.describe(number, request, forwards)));
		this.serveProvideEgress(`streams#${number}`);
		const reverseProxies = this._register(
			new ReverseProxies({
				mux: this.mux,
				allowRemoteBind: options.allowRemoteBind,
				timers: options.timers,
				log: this.log.fork('proxy'),
			}),
		);
		this.rpc.handle('addReverseProxy', (params) => reverseProxies.add(params));
		const connectorToken = connectorTokenOf(request.principal);
		if (connectorToken !== undefined) {
			this.restrictToConnector(connectorToken);
		}
		this._register(this.rpc.onDidReceiveInvalid((what) => this.log.warn('dropped an RPC message', { what })));
	}

	get streamCount(): number {
		return this.mux.streamCount;
	}

	/** Whether one of its reverse forwards listens on `port`. */
	listensOn(port: number): boolean {
		return this.forwards.list().some((f) => f.bindPort === port);
	}

	/** Ends this waiting session because a new session of its holder needs its port. */
	endForPort(port: number): void {
		this.log.info('a new session of the same client asks for its port: ending this waiting session', {
			port,
		});
		this.dispose();
	}

	/** The connector token this session proved, when it is a connector's. */
	get connectorTokenId(): string | undefined {
		return connectorTokenOf(this.principal);
	}

	/** `provideEgress`: this session becomes one of the reverse proxy's exits, until it ends. */
	private serveProvideEgress(session: string): void {
		let provision: IDisposable | undefined;
		this._register({ dispose: () => provision?.dispose() });
		this.rpc.handle('provideEgress', (params) => {
			const providers = this.options.providers;
			const principal = this.principal;
			if (principal.role === 'user' && principal.user.role !== 'provider') {
				throw new BerthError(
					'BERTH_ERR_USAGE',
					`a ${principal.user.role} token cannot make this client a provider: ask for a token with --role provider`,
				);
			}
			if (!providers) {
				throw new BerthError(
					'BERTH_ERR_USAGE',
					'this agent runs no reverse proxy: start it with berth server -r (and --socks-port)',
				);
			}
			const declared = parseDeclaredTokens(params);
			if (declared.length > 0 && !this.options.autonomy) {
				throw new BerthError(
					'BERTH_ERR_USAGE',
					'a provider declares connector tokens only to an agent in autonomy mode (berth server -r -a)',
				);
			}
			provision?.dispose();
			const store = new DisposableStore();
			store.add(providers.add(params, this.mux, session, this));
			provision = store;
			const tokens = this.options.connectorTokens;
			if (declared.length > 0 && tokens) {
				try {
					// A provider that comes back declares its tokens again; its connectors meanwhile were cut.
					for (const token of declared) {
						const id = tokens.add(token, 'a declared connector token', session);
						store.add({ dispose: () => tokens.remove(id) });
					}
				} catch (error) {
					store.dispose();
					provision = undefined;
					throw error;
				}
			}
			return {};
		});
	}

	/** What the agent's client list shows of this session; `since` is the wall clock at its start. */
	private describe(number: number, request: ConnectionRequest, forwards: RemoteForwards): ClientSession {
		const sessionName = parseMuxArgs(request.args)?.sessionName;
		return {
			id: `streams#${number}`,
			kind: 'streams',
			since: Date.now(),
			address: () => this.address,
			isConnected: () => this.isConnected,
			forwards: () => forwards.list(),
			streams: () => this.mux.streamCount,
			principal: request.principal,
			...(sessionName !== undefined ? { sessionName } : {}),
			disconnect: () => {
				this.log.info('disconnected by another client (disconnectClient)');
				this.end();
			},
			cut: (reason) => {
				this.log.info('session cut', { reason });
				this.shutdown(reason);
			},
		};
	}

	/** One observer for every stream of the session (no closure per connection). */
	private readonly bridgeObserver: BridgeObserver = {
		closed: (end) => {
			const failure = bridgeFailure(end);
			if (failure !== undefined && end.kind === 'reset') {
				this.log.debug('stream ended', { code: ResetCode[end.code], error: failure });
			}
		},
	};

	emit<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		this.rpc.emit(event, data);
	}

	shutdown(reason: string): void {
		this.rpc.emit('shutdown', { reason });
		this.end();
	}

	/**
	 * A connector may only open proxy streams, which go to a provider: every other method is
	 * refused, and the session ends as soon as its token is removed.
	 */
	private restrictToConnector(tokenId: string): void {
		for (const method of CONNECTOR_REFUSED_METHODS) {
			this.rpc.handle(method, () => {
				throw new BerthError('BERTH_ERR_USAGE', `a connector may only open proxy connections, not ${method}`);
			});
		}
		const tokens = this.options.connectorTokens;
		if (tokens) {
			this._register(
				tokens.onDidRemove((id) => {
					if (id === tokenId) {
						this.log.info('its connector token was removed: ending the session');
						this.end();
					}
				}),
			);
		}
	}

	/** A connector's stream: joined to a stream towards a provider (relay mode), credit passed across. */
	private relay(stream: MuxStream, target: Extract<OpenTarget, { kind: 'tcp' | 'udp' }>): void {
		const providers = this.options.providers;
		if (!providers) {
			stream.reset(ResetCode.Rejected, 'this agent relays to no providers (berth server -r)');
			return;
		}
		// Autonomy: a token a provider declared reaches that provider only.
		const owner = this.connectorTokenId
			? this.options.connectorTokens?.ownerOf(this.connectorTokenId)
			: undefined;
		const choice = {
			...(target.via !== undefined ? { via: target.via } : {}),
			...(owner ? { session: owner } : {}),
		};
		providers.openTarget(target, choice).then(
			(opened) => {
				if (!opened.ok) {
					stream.reset(opened.code, opened.reason);
					return;
				}
				if (stream.closed || this.isDisposed) {
					opened.stream.reset(ResetCode.Closed, 'the connector left');
					return;
				}
				stream.accept();
				new StreamPairBridge(stream, opened.stream);
			},
			(error: unknown) => stream.reset(ResetCode.Error, errorMessage(error)),
		);
	}

	/** The client opened a stream: reach its target (as the policy allows) and bridge them. */
	private open(stream: MuxStream, target: OpenTarget): void {
		if (connectorTokenOf(this.principal) !== undefined) {
			if (target.kind === 'reverse') {
				stream.reset(ResetCode.Rejected, 'only the agent opens streams for reverse forwards');
			} else {
				this.relay(stream, target);
			}
			return;
		}
		switch (target.kind) {
			case 'tcp':
				this.openTcp(stream, target);
				return;
			case 'reverse':
				stream.reset(ResetCode.Rejected, 'only the agent opens streams for reverse forwards');
				return;
			case 'udp':
				// A SOCKS5 UDP association whose datagrams leave here, each checked against the policy.
				new UdpEgress(stream, this.options.policy, this.log.fork('udp'));
				return;
			default:
				assertNever(target, 'stream target');
		}
	}

	/** Reaches a TCP target (as the policy allows) and bridges it to the stream. */
	private openTcp(stream: MuxStream, target: Extract<OpenTarget, { kind: 'tcp' }>): void {
		const options = {
			policy: this.options.policy,
			timers: this.options.timers,
			signal: this.connects.signal,
			...(this.options.upstream ? { upstream: this.options.upstream } : {}),
		};
		connectTarget(target.host, target.port, options).then(
			(socket) => {
				if (stream.closed || this.isDisposed) {
					socket.destroy();
					return;
				}
				stream.accept();
				new StreamSocketBridge(stream, socket, this.bridgeObserver).start();
			},
			(error: unknown) => {
				const reason = errorMessage(error);
				this.log.info('stream refused', { target: formatHostPort(target.host, target.port), reason });
				stream.reset(resetCodeFor(error), reason);
			},
		);
	}
}
