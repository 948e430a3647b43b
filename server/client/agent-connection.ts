import { randomUUID } from 'node:crypto';
import { RECONNECTION_GRACE_MS } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { AgentClientInfo, AgentEvents, AgentMethods, ServerInfo } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { concatBytes } from '../../protocol/bytes';
import { Session } from '../../protocol/session';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint, type DialedConnection } from './dial';
import { isPermanentError, reconnectDelayMs, retry, type RetryOutcome, type RetryRun } from './retry';
import { agentNetworkOf, OwnForwards } from './own-forwards';
import { greetAgent, SessionApi } from './session-api';

/** Where a connection to an agent stands. */
export type ConnectionState =
	| { readonly type: 'connected' }
	| {
			readonly type: 'reconnecting';
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	| { readonly type: 'failed'; readonly error: BerthError }
	| { readonly type: 'closed' };

/** The client's side of Management RPC. */
export type ClientRpc = RpcEndpoint<Record<string, never>, AgentMethods, Record<string, never>, AgentEvents>;

/**
 * A Management session with an agent: typed RPC that survives network drops. When the socket
 * drops, the client reconnects with the same reconnection token on VS Code's schedule while the
 * agent's grace time lasts; requests made meanwhile are queued and delivered once. An `error`
 * answer from the agent (for example an unknown token after the agent restarted) is permanent:
 * the state becomes `failed` and the connection is disposed. Berth's own clients (the CLI, the
 * extension) hold a stream session instead (StreamForwarder), which carries the same RPC; this is
 * the client of the agent's VS Code-compatible Management sessions, which the integration tests
 * drive as VS Code would.
 */
export class AgentConnection extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<ConnectionState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	readonly rpc: ClientRpc;
	private readonly session: Session;
	private current: ConnectionState = { type: 'connected' };
	private graceMs = RECONNECTION_GRACE_MS;
	private reconnecting: RetryRun<DialedConnection> | undefined;
	private services: SessionApi | undefined;

	private constructor(
		private readonly endpoint: AgentEndpoint,
		private readonly reconnectionToken: string,
	) {
		super();
		this.session = this._register(new Session({ timers: endpoint.timers }));
		this.rpc = this._register(
			new RpcEndpoint<Record<string, never>, AgentMethods, Record<string, never>, AgentEvents>({
				send: (bytes) => void this.session.send(bytes),
				timers: endpoint.timers,
			}),
		);
		this._register(this.session.onDidReceiveMessage((segments) => this.rpc.receive(concatBytes(segments))));
		this._register(this.session.onDidLoseTransport(() => this.reconnect()));
		this._register(this.session.onDidReceiveDisconnect(() => this.finish({ type: 'closed' })));
		this._register(this.session.onDidFail((error) => this.finish({ type: 'failed', error })));
		this._register({ dispose: () => this.reconnecting?.dispose() });
	}

	/**
	 * Connects and fetches the agent's info. Fails at once (no retries) if the agent cannot be
	 * reached or refuses: a first connection that fails is a configuration problem to report.
	 */
	static async connect(endpoint: AgentEndpoint): Promise<{ connection: AgentConnection; info: ServerInfo }> {
		const reconnectionToken = randomUUID();
		const { transport, leftover } = await dial(endpoint, {
			connectionType: ConnectionType.Management,
			reconnectionToken,
		});
		const connection = new AgentConnection(endpoint, reconnectionToken);
		connection.session.attach(transport, leftover);
		transport.resume();
		try {
			const info = await greetAgent(connection.rpc, endpoint.clientName);
			connection.graceMs = info.reconnectionGraceMs;
			const own = endpoint.own ?? connection._register(new OwnForwards());
			connection.services = connection._register(
				new SessionApi(connection.rpc, own, agentNetworkOf(info, endpoint.address.display)),
			);
			return { connection, info };
		} catch (error) {
			connection.dispose();
			throw error;
		}
	}

	get state(): ConnectionState {
		return this.current;
	}

	/**
	 * Typed, checked calls on this session: the agent's listening ports without this client's own
	 * listeners (`listeningPorts`, `onDidChangePorts`), its clients, this client's declarations.
	 */
	get api(): SessionApi {
		if (!this.services) {
			throw new BerthError('BERTH_ERR_INTERNAL', 'the connection is not connected yet');
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

	/**
	 * Ends another client's session on the agent. It is not banned: a Berth client opens a new
	 * session at once, as after any drop (the agent's owner should revoke the token to keep it out).
	 */
	disconnectClient(id: string): Promise<void> {
		return this.api.disconnectClient(id);
	}

	/** Ends the session for good: the agent drops it at once instead of waiting out the grace. */
	close(): void {
		if (this.session.isAttached) {
			this.session.sendDisconnect();
		}
		this.finish({ type: 'closed' });
	}

	/** Drops the current socket as if the network had failed (tests, "reconnect now" actions). */
	dropTransport(): void {
		this.session.detach();
	}

	private setState(state: ConnectionState): void {
		this.current = state;
		this._onDidChangeState.fire(state);
	}

	private finish(state: ConnectionState): void {
		if (this.isDisposed) {
			return;
		}
		this.setState(state);
		this.dispose();
	}

	/** Re-attaches the session on VS Code's schedule, for as long as the agent's grace lasts. */
	private reconnect(): void {
		if (this.reconnecting) {
			return;
		}
		const timers = this.endpoint.timers;
		const startedAt = timers.now();
		this.reconnecting = retry({
			timers,
			attempt: () =>
				dial(this.endpoint, {
					connectionType: ConnectionType.Management,
					reconnectionToken: this.reconnectionToken,
					reconnection: true,
				}),
			// The agent forgets the session once its grace has passed: no attempt after that can work.
			schedule: (attempt) => {
				const delayMs = reconnectDelayMs(attempt);
				return timers.now() + delayMs - startedAt > this.graceMs ? undefined : delayMs;
			},
			isPermanent: isPermanentError,
			onWait: (wait) => this.setState({ type: 'reconnecting', ...wait }),
			discard: ({ transport }) => transport.dispose(),
		});
		void this.reconnecting.outcome.then((outcome) => {
			this.reconnecting = undefined;
			this.reconnected(outcome);
		});
	}

	private reconnected(outcome: RetryOutcome<DialedConnection>): void {
		switch (outcome.type) {
			case 'succeeded': {
				const { transport, leftover } = outcome.value;
				if (this.isDisposed) {
					transport.dispose();
					return;
				}
				this.session.attach(transport, leftover);
				transport.resume();
				this.setState({ type: 'connected' });
				return;
			}
			case 'refused':
				this.finish({ type: 'failed', error: outcome.error });
				return;
			case 'exhausted':
				this.finish({
					type: 'failed',
					error: new BerthError(
						'BERTH_ERR_CLOSED',
						`could not reconnect within the agent's grace time (${Math.round(this.graceMs / 1000)} s)`,
					),
				});
				return;
			case 'cancelled':
				return;
		}
	}
}
