import { BerthError, errorMessage } from '../../protocol/errors';
import { randomUUID } from 'node:crypto';
import { RECONNECTION_GRACE_MS } from '../../protocol/constants';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import { Mux } from '../../protocol/mux';
import { createMuxArgs, ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { AgentClientInfo, AgentEvents, AgentMethods, ServerInfo } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { Session } from '../../protocol/session';
import { ConnectionType } from '../../protocol/wire';
import type { ClientRpc } from './agent-connection';
import { dial, type AgentEndpoint } from './dial';
import { agentNetworkOf, OwnForwards } from './own-forwards';
import { greetAgent, SessionApi } from './session-api';

/** Called when the agent opens a stream towards this client (a reverse forward's connection). */
export type IncomingStreamHandler = (stream: MuxStream, target: OpenTarget) => void;

/**
 * The client's end of a stream session: one connection to the agent carrying every forwarded
 * connection as a stream, and Management RPC on its own lane. The session outlives its socket:
 * when the socket drops (`onDidLoseConnection`) its streams wait, their local sockets open and
 * paused once their credit is spent, until the owner `resume`s it on a new socket with the same
 * reconnection token within the agent's grace time; both sides then replay what the other
 * missed. It ends (`onDidClose`, every stream reset with the reason) when the agent ends it, the
 * owner closes it, or it cannot be resumed.
 */
export class StreamSession extends Disposable {
	private readonly _onDidClose = this._register(new Emitter<{ readonly error?: BerthError }>());
	/** The session is over: the agent ended it, it failed, or `close()` was called. */
	readonly onDidClose = this._onDidClose.event;
	private readonly _onDidLoseConnection = this._register(new Emitter<{ readonly reason: string }>());
	/** The socket dropped (closed, silent for the timeout, or broken): the owner should `resume`. */
	readonly onDidLoseConnection = this._onDidLoseConnection.event;

	readonly rpc: ClientRpc;
	private readonly session: Session;
	private readonly mux: Mux;
	private closeError: BerthError | undefined;
	private services: SessionApi | undefined;
	/** How long the agent holds this session after a drop (from its serverInfo). */
	private graceMs = RECONNECTION_GRACE_MS;
	/** When the socket dropped (timers' clock); undefined while attached. */
	private detachedAt: number | undefined;

	private constructor(
		private readonly endpoint: AgentEndpoint,
		private readonly reconnectionToken: string,
		onIncoming: IncomingStreamHandler | undefined,
	) {
		super();
		const timers = endpoint.timers;
		this.session = this._register(new Session({ timers }));
		this.mux = this._register(
			new Mux({
				channel: this.session,
				role: 'client',
				onOpen: (stream, target) =>
					onIncoming
						? onIncoming(stream, target)
						: stream.reset(ResetCode.Rejected, 'this client has no reverse forwards'),
				onRpc: (bytes) => this.rpc.receive(bytes),
				onProtocolError: (message) => this.close(new BerthError('BERTH_ERR_PROTOCOL', message)),
			}),
		);
		this.rpc = this._register(
			new RpcEndpoint<Record<string, never>, AgentMethods, Record<string, never>, AgentEvents>({
				send: (bytes) => this.mux.sendRpc(bytes),
				timers,
			}),
		);
		this._register(
			this.session.onDidLoseTransport((e) => {
				this.detachedAt = timers.now();
				this._onDidLoseConnection.fire({
					reason: `the connection to the agent was lost (${e.reason}${e.error ? `: ${e.error.message}` : ''})`,
				});
			}),
		);
		this._register(
			this.session.onDidReceiveDisconnect(() =>
				this.close(new BerthError('BERTH_ERR_CLOSED', 'the agent ended the session')),
			),
		);
		this._register(this.session.onDidFail((error) => this.close(error)));
	}

	/**
	 * Opens a stream session and fetches the agent's info.
	 * @throws BerthError as `dial` does (refused, unreachable, unverified).
	 */
	static async connect(
		endpoint: AgentEndpoint,
		onIncoming?: IncomingStreamHandler,
	): Promise<{ session: StreamSession; info: ServerInfo }> {
		const reconnectionToken = randomUUID();
		const { transport, leftover } = await dial(endpoint, {
			connectionType: ConnectionType.Mux,
			args: createMuxArgs(endpoint.sessionName),
			reconnectionToken,
		});
		const session = new StreamSession(endpoint, reconnectionToken, onIncoming);
		session.session.attach(transport, leftover);
		transport.resume();
		try {
			const info = await greetAgent(session.rpc, endpoint.clientName);
			session.graceMs = info.reconnectionGraceMs;
			const own = endpoint.own ?? session._register(new OwnForwards());
			session.services = session._register(
				new SessionApi(session.rpc, own, agentNetworkOf(info, endpoint.address.display)),
			);
			return { session, info };
		} catch (error) {
			session.close(new BerthError('BERTH_ERR_CLOSED', errorMessage(error)));
			throw error;
		}
	}

	/** Whether a socket is attached now (false between a drop and `resume`). */
	get isConnected(): boolean {
		return this.session.isAttached;
	}

	/** Whether the agent still holds this session after a drop (its grace has not run out). */
	get mayResume(): boolean {
		return (
			!this.isDisposed &&
			(this.detachedAt === undefined || this.endpoint.timers.now() - this.detachedAt < this.graceMs)
		);
	}

	/** The agent's grace time for this session, in ms. */
	get reconnectionGraceMs(): number {
		return this.graceMs;
	}

	/**
	 * Attaches the session to a new socket with its reconnection token; both sides then replay
	 * what the other has not acknowledged. Streams go on where they were.
	 * @throws BerthError as `dial` does; a refusal the `stale-session.ts` way means the agent no
	 *   longer holds the session (end it, and open a new one).
	 */
	async resume(): Promise<void> {
		if (this.isDisposed) {
			throw new BerthError('BERTH_ERR_CLOSED', 'the stream session is closed');
		}
		const { transport, leftover } = await dial(this.endpoint, {
			connectionType: ConnectionType.Mux,
			args: createMuxArgs(this.endpoint.sessionName),
			reconnectionToken: this.reconnectionToken,
			reconnection: true,
		});
		if (this.isDisposed) {
			transport.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the stream session is closed');
		}
		this.detachedAt = undefined;
		this.session.attach(transport, leftover);
		transport.resume();
	}

	/**
	 * Ends a session that cannot be resumed: every stream is reset with `error`'s message (what
	 * each local connection is told), and `onDidClose` fires with it.
	 */
	end(error: BerthError): void {
		if (!this.isDisposed) {
			this.mux.end(error.message);
			this.close(error);
		}
	}

	/** Typed, checked calls on this session (listening ports, clients, declarations). */
	get api(): SessionApi {
		if (!this.services) {
			throw new BerthError('BERTH_ERR_INTERNAL', 'the stream session is not connected yet');
		}
		return this.services;
	}

	/** Whether the agent shares this client's loopback (its network identity equals this client's). */
	get sameNetwork(): boolean {
		return this.api.sameNetwork;
	}

	/** The agent's clients now, this one marked `isSelf`. */
	listClients(): Promise<AgentClientInfo[]> {
		return this.api.listClients();
	}

	/** Ends another client's session on the agent; it is not banned, and may reconnect. */
	disconnectClient(id: string): Promise<void> {
		return this.api.disconnectClient(id);
	}

	get streamCount(): number {
		return this.mux.streamCount;
	}

	get isClosed(): boolean {
		return this.isDisposed;
	}

	/** Opens a stream to host:port as the agent sees it. Data may be written at once. */
	open(target: OpenTarget): MuxStream {
		if (this.isDisposed) {
			throw new BerthError('BERTH_ERR_CLOSED', 'the stream session is closed');
		}
		return this.mux.open(target);
	}

	/** Ends the session (with a Disconnect to the agent when it is still connected). */
	close(error?: BerthError): void {
		if (this.isDisposed) {
			return;
		}
		this.closeError = error;
		if (!error && this.session.isAttached) {
			this.session.sendDisconnect();
		}
		this._onDidClose.fire(this.closeError ? { error: this.closeError } : {});
		this.dispose();
	}
}
