import { BerthError, HandshakeReason } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { ServerInfo } from '../../protocol/rpc';
import { AgentConnection, type ConnectionState } from './agent-connection';
import type { AgentEndpoint } from './dial';
import type { LinkState } from './link-state';
import { isPermanentError, reconnectDelayMs, retry, type RetryRun } from './retry';

/**
 * A link to an agent that stays up as long as it can: the Management session reconnects across
 * network drops (AgentConnection), and when the session itself is gone (the agent restarted, or
 * the grace ran out) a new one is opened on the same schedule. Only a permanent refusal (wrong
 * token, version mismatch, a server that does not speak Berth's handshake) ends the link: that needs a human.
 */
export class AgentLink extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<LinkState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	private connection: AgentConnection | undefined;
	private connectionListener: IDisposable | undefined;
	private current: LinkState;
	/** What the agent said of itself when the current session opened. */
	private info: ServerInfo;
	private renewal: RetryRun<{ connection: AgentConnection; info: ServerInfo }> | undefined;

	private constructor(
		private readonly endpoint: AgentEndpoint,
		first: AgentConnection,
		info: ServerInfo,
	) {
		super();
		this.current = { type: 'connected', info, renewed: false, sameNetwork: first.sameNetwork };
		this.info = info;
		this.adopt(first);
		this._register({
			dispose: () => {
				this.renewal?.dispose();
				this.connectionListener?.dispose();
				this.connection?.close();
			},
		});
	}

	/** Opens the first session; fails at once if the agent cannot be reached or refuses. */
	static async open(endpoint: AgentEndpoint): Promise<AgentLink> {
		const { connection, info } = await AgentConnection.connect(endpoint);
		return new AgentLink(endpoint, connection, info);
	}

	get state(): LinkState {
		return this.current;
	}

	/** The current session, when there is one. */
	get session(): AgentConnection | undefined {
		return this.connection;
	}

	private setState(state: LinkState): void {
		this.current = state;
		this._onDidChangeState.fire(state);
	}

	private adopt(connection: AgentConnection): void {
		this.connection = connection;
		this.connectionListener = connection.onDidChangeState((state) => this.onConnectionState(state));
	}

	private onConnectionState(state: ConnectionState): void {
		switch (state.type) {
			case 'connected':
				if (this.current.type !== 'connected' && this.connection) {
					this.setState({
						type: 'connected',
						info: this.info,
						renewed: false,
						sameNetwork: this.connection.sameNetwork,
					});
				}
				return;
			case 'reconnecting':
				this.setState({
					type: 'reconnecting',
					attempt: state.attempt,
					delayMs: state.delayMs,
					...(state.lastError ? { lastError: state.lastError } : {}),
				});
				return;
			case 'failed':
			case 'closed': {
				this.connectionListener?.dispose();
				this.connection = undefined;
				const error =
					state.type === 'failed'
						? state.error
						: new BerthError('BERTH_ERR_CLOSED', 'the agent ended the session');
				if (error.isPermanent && !isStaleSession(error)) {
					this.setState({ type: 'failed', error });
					return;
				}
				void this.renew(error.message);
				return;
			}
		}
	}

	private async renew(reason: string): Promise<void> {
		this.renewal = retry({
			timers: this.endpoint.timers,
			firstError: reason,
			attempt: () => AgentConnection.connect(this.endpoint),
			schedule: reconnectDelayMs,
			isPermanent: isPermanentError,
			onWait: (wait) => this.setState({ type: 'reconnecting', ...wait }),
			discard: ({ connection }) => connection.close(),
		});
		const outcome = await this.renewal.outcome;
		this.renewal = undefined;
		switch (outcome.type) {
			case 'succeeded': {
				const { connection, info } = outcome.value;
				if (this.isDisposed) {
					connection.close();
					return;
				}
				this.info = info;
				this.adopt(connection);
				this.setState({ type: 'connected', info, renewed: true, sameNetwork: connection.sameNetwork });
				return;
			}
			case 'refused':
				this.setState({ type: 'failed', error: outcome.error });
				return;
			case 'exhausted': // VS Code's schedule never gives up
			case 'cancelled':
				return;
		}
	}
}

/** Refusals that a new session cures: the agent no longer knows this one (it restarted, or the grace ran out). */
const STALE_SESSION_REASONS: ReadonlySet<string> = new Set([
	HandshakeReason.UnknownReconnectionTokenNeverSeen,
	HandshakeReason.UnknownReconnectionTokenSeenBefore,
]);

function isStaleSession(error: BerthError): boolean {
	return error.reason !== undefined && STALE_SESSION_REASONS.has(error.reason);
}
