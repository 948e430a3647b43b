import { randomUUID } from 'node:crypto';
import { RECONNECT_DELAYS_MS, RECONNECTION_GRACE_MS } from '../../protocol/constants';
import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { AgentEvents, AgentMethods, ServerInfo } from '../../protocol/rpc';
import { RpcEndpoint } from '../../protocol/rpc-endpoint';
import { concatBytes } from '../../protocol/bytes';
import { Session } from '../../protocol/session';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint } from './dial';

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

/** The wait before reconnection attempt `attempt` (1-based): VS Code's 0, 5, 5, 10 … 30 s. */
export function reconnectDelayMs(attempt: number): number {
	const index = Math.min(attempt - 1, RECONNECT_DELAYS_MS.length - 1);
	return RECONNECT_DELAYS_MS[Math.max(0, index)]!;
}

/**
 * A Management session with an agent: typed RPC that survives network drops. When the socket
 * drops, the client reconnects with the same reconnection token on VS Code's schedule while the
 * agent's grace time lasts; requests made meanwhile are queued and delivered once. An `error`
 * answer from the agent (for example an unknown token after the agent restarted) is permanent:
 * the state becomes `failed` and the connection is disposed.
 */
export class AgentConnection extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<ConnectionState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	readonly rpc: ClientRpc;
	private readonly session: Session;
	private current: ConnectionState = { type: 'connected' };
	private graceMs = RECONNECTION_GRACE_MS;
	private reconnecting: Promise<void> | undefined;
	private pendingDelay: IDisposable | undefined;

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
		this._register(this.session.onDidLoseTransport(() => void this.reconnect()));
		this._register(this.session.onDidReceiveDisconnect(() => this.finish({ type: 'closed' })));
		this._register(this.session.onDidFail((error) => this.finish({ type: 'failed', error })));
		this._register({ dispose: () => this.pendingDelay?.dispose() });
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
			const info = await connection.rpc.request('serverInfo', {});
			connection.graceMs = info.reconnectionGraceMs;
			return { connection, info };
		} catch (error) {
			connection.dispose();
			throw error;
		}
	}

	get state(): ConnectionState {
		return this.current;
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

	private reconnect(): Promise<void> {
		this.reconnecting ??= this.reconnectLoop().finally(() => (this.reconnecting = undefined));
		return this.reconnecting;
	}

	private async reconnectLoop(): Promise<void> {
		const timers = this.endpoint.timers;
		const startedAt = timers.now();
		let lastError: string | undefined;
		for (let attempt = 1; !this.isDisposed; attempt++) {
			const delayMs = reconnectDelayMs(attempt);
			this.setState({ type: 'reconnecting', attempt, delayMs, ...(lastError ? { lastError } : {}) });
			await new Promise<void>((resolve) => {
				const timer = timers.timeout(resolve, delayMs);
				// Disposing the connection ends the wait (and then the loop).
				this.pendingDelay = { dispose: () => (timer.dispose(), resolve()) };
			});
			if (this.isDisposed) {
				return;
			}
			if (timers.now() - startedAt > this.graceMs) {
				this.finish({
					type: 'failed',
					error: new BerthError(
						'BERTH_ERR_CLOSED',
						`could not reconnect within the agent's grace time (${Math.round(this.graceMs / 1000)} s)`,
					),
				});
				return;
			}
			try {
				const { transport, leftover } = await dial(this.endpoint, {
					connectionType: ConnectionType.Management,
					reconnectionToken: this.reconnectionToken,
					reconnection: true,
				});
				if (this.isDisposed) {
					transport.dispose();
					return;
				}
				this.session.attach(transport, leftover);
				transport.resume();
				this.setState({ type: 'connected' });
				return;
			} catch (error) {
				if (error instanceof BerthError && error.isPermanent) {
					this.finish({ type: 'failed', error });
					return;
				}
				lastError = errorMessage(error);
			}
		}
	}
}
