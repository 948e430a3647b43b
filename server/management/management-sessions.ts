import { Disposable, type Event, type IDisposable } from '../../protocol/lifecycle';
import type { MessageLimits } from '../../protocol/message-reader';
import type { AgentEvents, AgentMethods } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { concatBytes } from '../../protocol/bytes';
import type { Timers } from '../../protocol/timers';
import { ConnectionType } from '../../protocol/wire';
import type { Logger } from '../shared/log';
import type { AgentRpc } from './agent-methods';
import type { ClientSession } from '../agent-clients';
import type {
	ConnectionOutcome,
	ConnectionRequest,
	ConnectionTypeHandler,
	HandshakeReply,
	Principal,
} from '../handshake/connection-types';
import { ResumableSessions } from '../sessions/resumable-sessions';
import { ResumableAgentSession } from '../sessions/resumable-agent-session';

export interface ManagementSessionsOptions {
	readonly timers: Timers;
	readonly log: Logger;
	/** How long a session whose socket dropped waits for its client. */
	readonly graceMs: number;
	/** The wait once another client has connected (VS Code: min(5 min, grace)). */
	readonly shortGraceMs: number;
	/** Sessions waiting for their client at once (default MAX_WAITING_SESSIONS). */
	readonly maxWaiting?: number;
	readonly limits: MessageLimits;
	/**
	 * Registers the agent's methods on a new session's RPC endpoint, given the session's
	 * description for the agent's client list; what it returns is disposed with the session.
	 */
	readonly serve: (rpc: AgentRpc, session: ClientSession) => IDisposable | void;
}

/**
 * Management (1) connections: RPC sessions keyed by reconnection token that outlive their
 * sockets (ResumableSessions: grace, short grace, VS Code's refusal words, the bound on waiting
 * sessions).
 */
export class ManagementSessions extends Disposable implements ConnectionTypeHandler {
	readonly id = ConnectionType.Management;
	readonly name = 'Management';
	readonly acceptsUsers = true;
	private readonly table: ResumableSessions<ManagementSession>;
	/** A session started, gained or lost its socket, or ended. */
	readonly onDidChangeCounts: Event<void>;

	constructor(options: ManagementSessionsOptions) {
		super();
		this.table = this._register(
			new ResumableSessions({
				log: options.log,
				kind: 'session',
				...(options.maxWaiting !== undefined ? { maxWaiting: options.maxWaiting } : {}),
				create: (number, token, request) => new ManagementSession(number, token, request.principal, options),
			}),
		);
		this.onDidChangeCounts = this.table.onDidChangeCounts;
	}

	/** Sessions with a socket, and sessions waiting for their client. */
	get counts(): { connected: number; waiting: number } {
		return this.table.counts;
	}

	accept(request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome> {
		return Promise.resolve(this.table.accept(request, reply));
	}

	/** Sends an event to every connected session. */
	broadcast<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		for (const session of this.table.values()) {
			if (session.isConnected) {
				session.emit(event, data);
			}
		}
	}

	/** Another client of the same holder passed the handshake: see ResumableSessions.shortenGraces. */
	shortenGraces(principal: Principal): void {
		this.table.shortenGraces(principal);
	}

	/** Tells every connected client the agent is stopping, then ends every session. */
	shutdown(reason: string): void {
		for (const session of [...this.table.values()]) {
			session.shutdown(reason);
		}
	}
}

/** One Management session: its RPC endpoint on a session that waits for its client. */
class ManagementSession extends ResumableAgentSession {
	private readonly rpc: AgentRpc;

	constructor(number: number, token: string, principal: Principal, options: ManagementSessionsOptions) {
		super(number, token, principal, options.log.fork(`session#${number}`), options);
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
	}

	emit<K extends keyof AgentEvents & string>(event: K, data: AgentEvents[K]): void {
		this.rpc.emit(event, data);
	}

	shutdown(reason: string): void {
		this.rpc.emit('shutdown', { reason });
		this.end();
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
				this.end();
			},
			cut: (reason) => {
				this.log.info('session cut', { reason });
				this.shutdown(reason);
			},
		};
	}
}
