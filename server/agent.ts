import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import {
	HANDSHAKE_TIMEOUT_MS,
	HEADER_BYTES,
	MAX_PENDING_HANDSHAKES,
	MAX_PREAUTH_CONTROL_MESSAGE_BYTES,
	RECONNECTION_GRACE_MS,
	RECONNECTION_SHORT_GRACE_MS,
} from '../protocol/constants';
import { BerthError, errorMessage } from '../protocol/errors';
import { Disposable, type IDisposable } from '../protocol/lifecycle';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from '../protocol/message-reader';
import { checkTimerDelay, type Timers } from '../protocol/timers';
import { AgentSessions, type AgentSessionsConfig } from './agent-sessions';
import { computeNetworkIdentity } from './shared/network-identity';
import type { ConnectionToken } from './connection-token';
import type { ConnectionTypeRegistry } from './handshake/connection-types';
import { runServerHandshake } from './handshake/server-handshake';
import { Refusals } from './refusals';
import { abortUpgrade } from './http/abort';
import {
	createAgentServer,
	isTlsHandshakeError,
	type AgentServer,
	type TlsCredentials,
} from './http/agent-server';
import { PendingConnections } from './http/pending-connections';
import { handleHttpRequest } from './http/request-handler';
import { upgradeConnection } from './http/upgrade';
import { redactUrl, tokenPrefix, type Logger } from './shared/log';
import { TargetPolicy } from './shared/target-policy';
import { formatHostPort } from '../protocol/host-port';
import type { ProviderPool } from './forward/provider-pool';
import type { ConnectorTokens } from './connector-tokens';
import type { Upstream } from './shared/upstream';
import type { AgentKey } from './auth/agent-key';
import type { BearerVerifier } from './auth/bearer-verifier';
import type { OpenAccounts } from './auth/open-accounts';
import { WebApp } from './http/web/web-app';
import type { WebOptions } from './http/web/web-context';

/** Everything an agent needs, resolved from flags by the CLI (or by a test). */
export interface AgentConfig {
	readonly host: string;
	/** 0 picks a free port. */
	readonly port: number;
	readonly token: ConnectionToken;
	readonly version: string;
	readonly commit: string;
	readonly log: Logger;
	readonly timers: Timers;
	readonly reconnectionGraceMs?: number;
	readonly shortGraceMs?: number;
	readonly handshakeTimeoutMs?: number;
	readonly maxPendingHandshakes?: number;
	/** Management sessions waiting for their client at once; past it the oldest waiting one ends. */
	readonly maxWaitingSessions?: number;
	readonly limits?: MessageLimits;
	/** Which targets clients may reach (--allow/--deny); open to all by default. */
	readonly policy?: TargetPolicy;
	/** Whether reverse forwards may listen on non-loopback addresses (--allow-remote-bind). */
	readonly allowRemoteBind?: boolean;
	/** The reverse proxy's providers (`berth server -r`): clients may then `provideEgress`. */
	readonly providers?: ProviderPool;
	/** Relay mode's connector tokens: their clients' streams go to the providers. */
	readonly connectorTokens?: ConnectorTokens;
	/** The proxy stream sessions' TCP targets are reached through (`--upstream`). */
	readonly upstream?: Upstream;
	/** Autonomy mode (`-r -a`): providers declare connector tokens that reach them only. */
	readonly autonomy?: boolean;
	/** User tokens (`--accounts`) and dev mode's `--dev`: credentials other than the connection token. */
	readonly bearer?: BearerVerifier;
	/** User accounts (`--accounts`): the token endpoints, and sessions cut when a token is revoked or expires. */
	readonly accounts?: Pick<OpenAccounts, 'accounts' | 'tokens' | 'store'>;
	/** The agent's own key, which proves it to clients holding user tokens. */
	readonly agentKey?: AgentKey;
	/** Serve `https://` and `wss://` with this certificate and key (--tls-cert, --tls-key). */
	readonly tls?: TlsCredentials;
	/** The web pages for people (sign-in, /tokens, the device flow); served with `accounts` and `agentKey` only. */
	readonly web?: WebOptions;
}

/** How long `stop()` lets goodbyes flush before it destroys what is left. */
const STOP_FLUSH_MS = 1_000;

/**
 * The remote agent: an HTTP server whose upgrades speak VS Code's remote-agent handshake and are
 * handed to the connection types of `AgentSessions`. This class owns the listening socket: the
 * bound on connections that have not authenticated, the refusals, plain HTTP, and stopping.
 */
export class Agent extends Disposable {
	private readonly listener: AgentServer;
	private readonly server: Server;
	private readonly wss: WebSocketServer;
	private readonly pending: PendingConnections;
	private readonly sessions: AgentSessions;
	private readonly refusals: Refusals;
	private readonly web: WebApp | undefined;
	private readonly sockets = new Set<Socket>();
	private readonly acceptedAt = new WeakMap<Socket, number>();
	private readonly log: Logger;
	/** On the agent's clock (`timers.now()`), for uptimes. */
	private readonly startedAt: number;
	private readonly handshakeTimeoutMs: number;
	private readonly limits: MessageLimits;
	private stopping: Promise<void> | undefined;

	private constructor(private readonly config: AgentConfig) {
		super();
		this.log = config.log.fork('agent');
		this.startedAt = config.timers.now();
		this.limits = config.limits ?? DEFAULT_MESSAGE_LIMITS;
		this.handshakeTimeoutMs = checkTimerDelay(
			'handshakeTimeoutMs',
			config.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
		);
		this.refusals = this._register(new Refusals(this.log, config.timers));
		this.sessions = this._register(new AgentSessions(this.sessionsConfig()));
		config.accounts?.accounts.attach(this.sessions.clientList);
		this.web = this.createWebApp();
		this.listener = createAgentServer({
			timeoutMs: this.handshakeTimeoutMs,
			...(config.tls ? { tls: config.tls } : {}),
		});
		this.server = this.listener.server;
		// ws buffers each frame whole: until a client's token is accepted, its frames may hold only a
		// handshake message (the upgrade raises the bound per connection afterwards: WsTransport.setMaxPayload).
		this.wss = new WebSocketServer({
			noServer: true,
			perMessageDeflate: false,
			clientTracking: false,
			maxPayload: MAX_PREAUTH_CONTROL_MESSAGE_BYTES + HEADER_BYTES,
		});
		this.pending = this._register(
			new PendingConnections({
				max: config.maxPendingHandshakes ?? MAX_PENDING_HANDSHAKES,
				timeoutMs: this.handshakeTimeoutMs,
				timers: config.timers,
				onDrop: (socket, why) =>
					this.log.debug('dropped a connection that did not finish its handshake', {
						peer: formatHostPort(socket.remoteAddress, socket.remotePort),
						why,
					}),
			}),
		);
		this.listen();
	}

	private createWebApp(): WebApp | undefined {
		const { web, accounts, agentKey } = this.config;
		if (!web || !accounts || !agentKey) {
			return undefined;
		}
		return this._register(
			new WebApp({
				options: web,
				token: this.config.token,
				timers: this.config.timers,
				wallClock: Date.now,
				log: this.log.fork('web'),
				tokens: accounts.tokens,
				store: accounts.store,
				agentKey,
				logRefusal: (message, fields) => this.refusals.logRefusal('warn', message, fields),
			}),
		);
	}

	/** The registry of connection types (tests register their own). */
	get registry(): ConnectionTypeRegistry {
		return this.sessions.registry;
	}

	private sessionsConfig(): AgentSessionsConfig {
		const config = this.config;
		const graceMs = checkTimerDelay(
			'reconnectionGraceMs',
			config.reconnectionGraceMs ?? RECONNECTION_GRACE_MS,
		);
		return {
			identity: {
				version: config.version,
				commit: config.commit,
				startedAt: this.startedAt,
				reconnectionGraceMs: graceMs,
				network: computeNetworkIdentity(),
			},
			timers: config.timers,
			log: this.log,
			limits: this.limits,
			graceMs,
			shortGraceMs: checkTimerDelay('shortGraceMs', config.shortGraceMs ?? RECONNECTION_SHORT_GRACE_MS),
			...(config.maxWaitingSessions !== undefined ? { maxWaitingSessions: config.maxWaitingSessions } : {}),
			policy: config.policy ?? TargetPolicy.openToAll,
			allowRemoteBind: config.allowRemoteBind ?? false,
			...(config.providers ? { providers: config.providers } : {}),
			...(config.connectorTokens ? { connectorTokens: config.connectorTokens } : {}),
			...(config.upstream ? { upstream: config.upstream } : {}),
			...(config.autonomy ? { autonomy: true } : {}),
		};
	}

	/** Wires the HTTP server's events: accept, plain requests, upgrades, garbage. */
	private listen(): void {
		this.server.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			this.acceptedAt.set(socket, this.config.timers.now());
			socket.once('close', () => this.sockets.delete(socket));
			this.pending.add(socket);
		});
		this.server.on('request', (req, res) => {
			// A socket that carries plain HTTP stays in the pending bound and is closed after its
			// answer: idle keep-alive sockets would otherwise pile up, unbounded, until the agent
			// runs out of file descriptors (nothing here needs a second request on one socket).
			res.setHeader('Connection', 'close');
			try {
				this.serveHttp(req, res);
			} catch (error) {
				// A bug in one request must not take the agent (and every session) down.
				this.log.error('HTTP handler failed', { error: errorMessage(error), url: redactUrl(req.url ?? '') });
				if (!res.headersSent) {
					res.writeHead(500, { 'Content-Type': 'text/plain' });
				}
				res.end('Internal error.\n');
			}
		});
		this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
			this.onUpgrade(req, socket as Socket, head).catch((error: unknown) => {
				this.log.error('upgrade handler failed', { error: errorMessage(error) });
				socket.destroy();
			});
		});
		this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
			this.onClientError(error, socket as Socket),
		);
	}

	/** Garbage or slow HTTP gets 400 (or 431); a failed TLS handshake has no HTTP to answer with. */
	private onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
		if (isTlsHandshakeError(error)) {
			// A client that does not trust the certificate, or speaks plain HTTP to this port.
			this.log.debug('TLS handshake failed', {
				peer: formatHostPort(socket.remoteAddress, socket.remotePort),
				error: error.code,
			});
			socket.destroy();
			return;
		}
		this.log.debug('malformed HTTP request', { error: error.code ?? error.message });
		abortUpgrade(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, 'Bad Request.');
	}

	private serveHttp(req: IncomingMessage, res: ServerResponse): void {
		const config = this.config;
		const attempts = this.refusals.attemptsFrom(req.socket);
		handleHttpRequest(req, res, {
			attempts,
			api: {
				token: config.token,
				timers: config.timers,
				attempts,
				...(config.providers ? { providers: config.providers } : {}),
				...(config.connectorTokens ? { connectorTokens: config.connectorTokens } : {}),
				counts: () => ({
					clients: this.sessions.clientList.list('').length,
					sessions: this.sessions.clientList.list(''),
					streams: this.sessions.streams.counts.streams,
					connectors: this.sessions.streams.connectorSessions(),
				}),
			},
			token: config.token,
			...(config.accounts && config.bearer && config.agentKey
				? {
						accounts: {
							token: config.token,
							timers: config.timers,
							attempts,
							bearer: config.bearer,
							tokens: config.accounts.tokens,
							store: config.accounts.store,
							agentKey: config.agentKey,
						},
					}
				: {}),
			...(this.web ? { web: this.web } : {}),
			listenHost: config.host,
			secure: this.listener.scheme === 'wss',
			commit: config.commit,
			status: () => ({
				version: config.version,
				commit: config.commit,
				host: hostname(),
				listening: this.url,
				uptimeSeconds: (config.timers.now() - this.startedAt) / 1000,
				sessionsConnected: this.sessions.management.counts.connected,
				sessionsWaiting: this.sessions.management.counts.waiting,
				tunnelsOpen: this.sessions.tunnels.openCount,
				streamSessions: this.sessions.streams.counts.sessions,
				streamSessionsWaiting: this.sessions.streams.counts.waiting,
				streamsOpen: this.sessions.streams.counts.streams,
				...(config.accounts ? { users: this.signedInUsers() } : {}),
			}),
		});
	}

	/** `alice@example.com (laptop)` for each connected session of a user token. */
	private signedInUsers(): string[] {
		return this.sessions.clientList
			.list('')
			.filter((client) => client.user !== undefined)
			.map((client) => (client.sessionName ? `${client.user} (${client.sessionName})` : client.user!));
	}

	/** Starts an agent and resolves once it listens. Rejects with BERTH_ERR_LISTEN if it cannot. */
	static async start(config: AgentConfig): Promise<Agent> {
		const agent = new Agent(config);
		await new Promise<void>((resolve, reject) => {
			const onError = (error: NodeJS.ErrnoException): void => {
				agent.dispose();
				reject(
					new BerthError(
						'BERTH_ERR_LISTEN',
						`cannot listen on ${formatHostPort(config.host, config.port)}: ${error.code ?? error.message}` +
							(error.code === 'EADDRINUSE'
								? ' (the port is in use: choose another with --port, or 0 for any)'
								: ''),
						undefined,
						{ cause: error },
					),
				);
			};
			agent.server.once('error', onError);
			agent.server.listen({ host: config.host, port: config.port }, () => {
				agent.server.off('error', onError);
				resolve();
			});
		});
		agent.server.on('error', (error) => agent.log.error('server error', { error: error.message }));
		return agent;
	}

	/** Clients connected now: Management sessions with a socket, and stream sessions. */
	get clients(): number {
		return this.sessions.clients;
	}

	get port(): number {
		const address = this.server.address();
		return typeof address === 'object' && address ? address.port : this.config.port;
	}

	/** `ws://HOST:PORT` (`wss://` with TLS), as the first line on stdout announces it. */
	get url(): string {
		return `${this.listener.scheme}://${formatHostPort(this.config.host, this.port)}`;
	}

	/**
	 * Stops cleanly: no new connections, a `shutdown` event and a Disconnect to every session,
	 * a moment for them to flush, then everything left is destroyed.
	 */
	stop(reason = 'the agent is stopping'): Promise<void> {
		this.stopping ??= (async () => {
			const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
			const flushed = whenAllClose(this.sockets);
			this.sessions.shutdown(reason);
			let deadline: IDisposable | undefined;
			await Promise.race([
				flushed,
				new Promise<void>((resolve) => (deadline = this.config.timers.timeout(resolve, STOP_FLUSH_MS))),
			]);
			deadline?.dispose();
			for (const socket of this.sockets) {
				socket.destroy();
			}
			this.server.closeAllConnections();
			this.wss.close();
			await closed;
			this.dispose();
		})();
		return this.stopping;
	}

	private async onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
		// The bounds hold the TCP socket: under TLS, the one below this TLSSocket.
		const tcp = this.listener.tcpOf(socket);
		this.pending.add(tcp); // again, if it arrived on a keep-alive connection that served a request
		const peer = formatHostPort(socket.remoteAddress, socket.remotePort);
		const elapsed = this.config.timers.now() - (this.acceptedAt.get(tcp) ?? this.config.timers.now());
		const upgraded = await upgradeConnection(req, socket, head, this.config.host, this.wss);
		// A refused socket stays in the pending bound until it closes (see PendingConnections).
		if ('refused' in upgraded) {
			this.refusals.logRefusal('info', 'connection', { peer, outcome: 'refused', reason: upgraded.refused });
			return;
		}
		let user: string | undefined;
		const result = await runServerHandshake(upgraded.transport, upgraded.initial, upgraded.query, {
			token: this.config.token,
			commit: this.config.commit,
			registry: this.sessions.registry,
			timers: this.config.timers,
			deadlineMs: Math.max(0, this.handshakeTimeoutMs - elapsed),
			attempts: this.refusals.attemptsFrom(socket),
			onTokenAccepted: () =>
				upgraded.setMaxMessageBytes(
					Math.max(this.limits.maxControlBytes, this.limits.maxMessageBytes) + HEADER_BYTES,
				),
			onAuthenticated: (principal) => {
				user = principal.role === 'user' ? principal.user.email : undefined;
				// An authenticated client no longer counts against the bound on handshakes in progress.
				this.pending.settle(tcp);
				this.sessions.management.shortenGraces(principal);
			},
			...(this.config.connectorTokens ? { connectorTokens: this.config.connectorTokens } : {}),
			...(this.config.bearer ? { bearer: this.config.bearer } : {}),
			...(this.config.agentKey ? { agentKey: this.config.agentKey } : {}),
			onTokenRefused: (why, tokenId) =>
				this.refusals.logRefusal('info', 'user token refused', {
					peer,
					why,
					...(tokenId ? { token: tokenId } : {}),
				}),
		});
		const outcome = result.outcome;
		const fields = {
			peer,
			token: tokenPrefix(upgraded.query.reconnectionToken),
			type: result.connectionType,
			...(user !== undefined ? { user } : {}),
			transport: upgraded.query.skipWebSocketFrames ? 'tcp' : 'websocket',
			outcome: outcome.type,
			...(outcome.type === 'refused' ? { reason: outcome.reason } : { detail: outcome.detail }),
		};
		if (outcome.type === 'refused') {
			this.refusals.logRefusal('info', 'connection', fields);
		} else {
			this.log.info('connection', fields);
		}
	}
}

/** Resolves once every socket in `sockets` (as it is now) has closed. */
function whenAllClose(sockets: ReadonlySet<Socket>): Promise<void> {
	let left = sockets.size;
	return new Promise((resolve) => {
		if (left === 0) {
			resolve();
		}
		for (const socket of sockets) {
			socket.once('close', () => {
				left--;
				if (left === 0) {
					resolve();
				}
			});
		}
	});
}
