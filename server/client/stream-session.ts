import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import { Mux } from '../../protocol/mux';
import { createMuxArgs, ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { AgentClientInfo, AgentEvents, AgentMethods, ServerInfo } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { Session } from '../../protocol/session';
import type { Timers } from '../../protocol/timers';
import { ConnectionType } from '../../protocol/wire';
import type { ClientRpc } from './agent-connection';
import { dial, type AgentEndpoint } from './dial';
import { agentNetworkOf, OwnForwards } from './own-forwards';
import { greetAgent, SessionApi } from './session-api';

/** Called when the agent opens a stream towards this client (a reverse forward's connection). */
export type IncomingStreamHandler = (stream: MuxStream, target: OpenTarget) => void;

/**
 * The client's end of a stream session: one connection to the agent carrying every forwarded
 * connection as a stream, and Management RPC on its own lane. The session ends with its socket
 * (its streams close); the owner opens a new one.
 */
export class StreamSession extends Disposable {
	private readonly _onDidClose = this._register(new Emitter<{ readonly error?: BerthError }>());
	/** The session is over: its socket dropped, the agent stopped, or `close()` was called. */
	readonly onDidClose = this._onDidClose.event;

	readonly rpc: ClientRpc;
	private readonly session: Session;
	private readonly mux: Mux;
	private closeError: BerthError | undefined;
	private services: SessionApi | undefined;

	private constructor(timers: Timers, onIncoming: IncomingStreamHandler | undefined) {
		super();
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
			this.session.onDidLoseTransport((e) =>
				this.close(
					new BerthError(
						'BERTH_ERR_CLOSED',
						`the connection to the agent was lost (${e.reason}${e.error ? `: ${e.error.message}` : ''})`,
					),
				),
			),
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
		const { transport, leftover } = await dial(endpoint, {
			connectionType: ConnectionType.Mux,
			args: createMuxArgs(endpoint.sessionName),
		});
		const session = new StreamSession(endpoint.timers, onIncoming);
		session.session.attach(transport, leftover);
		transport.resume();
		try {
			const info = await greetAgent(session.rpc, endpoint.clientName);
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
