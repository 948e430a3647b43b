import { HandshakeReason } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { MessageLimits } from '../../protocol/message-reader';
import type { AgentEvents, AgentMethods } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { concatBytes } from '../../protocol/bytes';
import { Session } from '../../protocol/session';
import type { Timers } from '../../protocol/timers';
import { ConnectionType } from '../../protocol/wire';
import type { Logger } from '../shared/log';
import type { AgentRpc } from './agent-methods';
import type { ClientSession } from '../agent-clients';
import { tokenPrefix } from '../shared/log';
import {
	samePrincipal,
	type ConnectionOutcome,
	type ConnectionRequest,
	type ConnectionTypeHandler,
	type HandshakeReply,
	type Principal,
} from '../handshake/connection-types';

/** How many reconnection tokens are remembered as "seen before" after their session ended. */
const MAX_SEEN_TOKENS = 10_000;
/**
 * Sessions waiting for their client at once (each holds about 15 KiB, more with unacknowledged
 * messages to replay); past it the one waiting longest ends. VS Code has no bound: a client that
 * opens and drops sessions in a loop would otherwise grow the agent for the whole grace time.
 */
export const MAX_WAITING_MANAGEMENT_SESSIONS = 256;

export interface ManagementSessionsOptions {
	readonly timers: Timers;
	readonly log: Logger;
	/** How long a session whose socket dropped waits for its client. */
	readonly graceMs: number;
	/** The wait once another client has connected (VS Code: min(5 min, grace)). */
	readonly shortGraceMs: number;
	/** Sessions waiting for their client at once (default MAX_WAITING_MANAGEMENT_SESSIONS). */
	readonly maxWaiting?: number;
	readonly limits: MessageLimits;
	/**
	 * Registers the agent's methods on a new session's RPC endpoint, given the session's
	 * description for the agent's client list; what it returns is disposed with the session.
	 */
	readonly serve: (rpc: AgentRpc, session: ClientSession) => IDisposable | void;
}

/**
 * Management (1) connections: sessions keyed by reconnection token that outlive their sockets.
 * A dropped session waits `graceMs` for its client (or the short grace once another client
 * connects); `reconnection=true` with the same token resumes it, replaying what either side
 * missed. Refusals use VS Code's reason strings. At most `maxWaiting` sessions wait at once: past
 * it, the one that has waited longest ends (and says so in the log), as its client is the least
 * likely to come back.
 */
export class ManagementSessions extends Disposable implements ConnectionTypeHandler {
	readonly id = ConnectionType.Management;
	readonly name = 'Management';
	readonly acceptsUsers = true;
	private readonly _onDidChangeCounts = this._register(new Emitter<void>());
	/** A session gained or lost its socket, or ended. */
	readonly onDidChangeCounts = this._onDidChangeCounts.event;
	private readonly live = new Map<string, ManagementSession>();
	/** Sessions without a socket, the longest waiting first. */
	private readonly waiting = new Set<ManagementSession>();
	private readonly seen = new Set<string>();
	private nextNumber = 1;

	constructor(private readonly options: ManagementSessionsOptions) {
		super();
		this._register({
			dispose: () => {
				for (const session of [...this.live.values()]) {
					session.dispose();
				}
			},
		});
	}

	/** Sessions with a socket, and sessions waiting for their client. */
	get counts(): { connected: number; waiting: number } {
		let connected = 0;
		for (const session of this.live.values()) {
			if (session.isConnected) {
				connected++;
			}
		}
		return { connected, waiting: this.live.size - connected };
	}

	async accept(request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome> {
		const token = request.reconnectionToken;
		const existing = this.live.get(token);
		if (!request.isReconnection) {
			if (existing) {
				return reply.refuse(HandshakeReason.DuplicateReconnectionToken);
			}
			reply.ok();
			const session = this.create(token, request.principal);
			session.attach(request);
			return { type: 'accepted', detail: `session#${session.number}` };
		}
		if (!existing) {
			return reply.refuse(
				this.seen.has(token)
					? HandshakeReason.UnknownReconnectionTokenSeenBefore
					: HandshakeReason.UnknownReconnectionTokenNeverSeen,
			);
		}
		if (!samePrincipal(existing.principal, request.principal)) {
			// Another holder's session: its reconnection token leaked, or was guessed. Not theirs.
			return reply.refuse(HandshakeReason.Unauthorized);
		}
		reply.ok();
		existing.attach(request);
		return { type: 'accepted', detail: `session#${existing.number} resumed` };
	}

	/** Sends an event to every connected session. */
	broadcast<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		for (const session of this.live.values()) {
			if (session.isConnected) {
				session.emit(event, data);
			}
		}
	}

	/**
	 * Another client of the same holder passed the handshake: that holder's disconnected sessions
	 * now wait only the short grace (another user's are not theirs to shorten).
	 */
	shortenGraces(principal: Principal): void {
		for (const session of this.live.values()) {
			if (samePrincipal(session.principal, principal)) {
				session.shortenGrace();
			}
		}
	}

	/** Tells every connected client the agent is stopping, then ends every session. */
	shutdown(reason: string): void {
		for (const session of [...this.live.values()]) {
			session.shutdown(reason);
		}
	}

	private create(token: string, principal: Principal): ManagementSession {
		const number = this.nextNumber++;
		const session = new ManagementSession(number, token, principal, this.options);
		this.live.set(token, session);
		this.remember(token);
		const ended = session.onDidEnd(() => {
			ended.dispose();
			changed.dispose();
			this.live.delete(token);
			this.waiting.delete(session);
			this._onDidChangeCounts.fire();
		});
		const changed = session.onDidChangeConnection(() => {
			this.waiting.delete(session);
			if (!session.isConnected) {
				this.waiting.add(session);
				this.boundWaiting();
			}
			this._onDidChangeCounts.fire();
		});
		return session;
	}

	/** Ends the sessions that have waited longest while more than `maxWaiting` wait. */
	private boundWaiting(): void {
		const max = this.options.maxWaiting ?? MAX_WAITING_MANAGEMENT_SESSIONS;
		for (const oldest of this.waiting) {
			if (this.waiting.size <= max) {
				return;
			}
			this.options.log.warn('too many sessions waiting for their clients: ended the one waiting longest', {
				session: oldest.number,
				maxWaiting: max,
			});
			oldest.dispose(); // its onDidEnd removes it from `waiting`
		}
	}

	private remember(token: string): void {
		this.seen.add(token);
		if (this.seen.size > MAX_SEEN_TOKENS) {
			this.seen.delete(this.seen.values().next().value as string);
		}
	}
}

/** One Management session: its Session, its RPC endpoint and its grace timers. */
class ManagementSession extends Disposable {
	private readonly session: Session;
	private readonly rpc: AgentRpc;
	private readonly log: Logger;
	private longGrace: IDisposable | undefined;
	private shortGrace: IDisposable | undefined;
	/** The peer of the socket attached last. */
	private address = '?';
	private readonly _onDidChangeConnection = this._register(new Emitter<void>());
	/** The session gained or lost its socket. */
	readonly onDidChangeConnection = this._onDidChangeConnection.event;
	private readonly _onDidEnd = this._register(new Emitter<void>());
	/** The session is over (client disconnected, grace ran out, or the agent stopped). */
	readonly onDidEnd = this._onDidEnd.event;

	constructor(
		readonly number: number,
		token: string,
		readonly principal: Principal,
		private readonly options: ManagementSessionsOptions,
	) {
		super();
		this.log = options.log.fork(`session#${number}`);
		this.session = this._register(new Session({ timers: options.timers, limits: options.limits }));
		this.rpc = this._register(
			new RpcEndpoint<AgentMethods, Record<string, never>, AgentEvents, Record<string, never>>({
				send: (bytes) => void this.session.send(bytes),
				timers: options.timers,
			}),
		);
		const served = options.serve(this.rpc, this.describe(Date.now()));
		if (served) {
			this._register(served);
		}
		this._register(this.session.onDidReceiveMessage((segments) => this.rpc.receive(concatBytes(segments))));
		this._register(this.rpc.onDidReceiveInvalid((what) => this.log.warn('dropped a message', { what })));
		this._register(
			this.session.onDidLoseTransport((e) => {
				this.log.info('connection lost; waiting for the client to reconnect', {
					reason: e.reason,
					error: e.error?.message,
					graceSeconds: Math.round(options.graceMs / 1000),
					token: tokenPrefix(token),
				});
				this.startGrace();
				this._onDidChangeConnection.fire();
			}),
		);
		this._register(
			this.session.onDidReceiveDisconnect(() => {
				this.log.info('client disconnected');
				this.session.sendDisconnect();
				this.dispose();
			}),
		);
		this._register(
			this.session.onDidFail((error) => {
				this.log.warn('session failed', { error: error.message });
				this.dispose();
			}),
		);
		this._register({ dispose: () => this.stopGrace() });
	}

	get isConnected(): boolean {
		return this.session.isAttached;
	}

	attach(request: ConnectionRequest): void {
		this.address = request.remoteAddress;
		this.stopGrace();
		this.session.attach(request.transport, request.leftover);
		request.transport.resume();
		this._onDidChangeConnection.fire();
	}

	emit<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		this.rpc.emit(event, data);
	}

	shortenGrace(): void {
		if (this.longGrace && !this.shortGrace) {
			const shortMs = Math.min(this.options.shortGraceMs, this.options.graceMs);
			this.log.info('another client connected; shortening the wait for reconnection', {
				graceSeconds: Math.round(shortMs / 1000),
			});
			this.shortGrace = this.options.timers.timeout(() => this.expire(), shortMs);
		}
	}

	shutdown(reason: string): void {
		this.rpc.emit('shutdown', { reason });
		this.session.sendDisconnect();
		this.dispose();
	}

	override dispose(): void {
		if (this.isDisposed) {
			return;
		}
		this._onDidEnd.fire();
		super.dispose();
	}

	/** What the agent's client list shows of this session; `since` is the wall clock at its start. */
	private describe(since: number): ClientSession {
		return {
			id: `session#${this.number}`,
			kind: 'management',
			since,
			address: () => this.address,
			isConnected: () => this.isConnected,
			forwards: () => [],
			streams: () => 0,
			principal: this.principal,
			disconnect: () => {
				this.log.info('disconnected by another client (disconnectClient)');
				if (this.session.isAttached) {
					this.session.sendDisconnect();
				}
				this.dispose();
			},
			cut: (reason) => {
				this.log.info('session cut', { reason });
				this.shutdown(reason);
			},
		};
	}

	private startGrace(): void {
		this.stopGrace();
		this.longGrace = this.options.timers.timeout(() => this.expire(), this.options.graceMs);
	}

	private stopGrace(): void {
		this.longGrace?.dispose();
		this.shortGrace?.dispose();
		this.longGrace = undefined;
		this.shortGrace = undefined;
	}

	private expire(): void {
		this.log.info('the client did not come back within the grace time; session ended');
		this.dispose();
	}
}
