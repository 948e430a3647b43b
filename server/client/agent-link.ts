import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { ServerInfo } from '../../protocol/rpc';
import { AgentConnection, type ConnectionState } from './agent-connection';
import { renewLink } from './retry';
import type { AgentEndpoint } from './dial';

/** Where a link to an agent stands. */
export type LinkState =
	| { readonly type: 'connected'; readonly info: ServerInfo; readonly renewed: boolean }
	| {
			readonly type: 'reconnecting';
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	| { readonly type: 'failed'; readonly error: BerthError };

/**
 * A link to an agent that stays up as long as it can: the Management session reconnects across
 * network drops (AgentConnection), and when the session itself is gone (the agent restarted, or
 * the grace ran out) a new one is opened on the same schedule. Only a permanent refusal (wrong
 * token, version mismatch, an agent that cannot prove itself) ends the link: that needs a human.
 */
export class AgentLink extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<LinkState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	private connection: AgentConnection | undefined;
	private connectionListener: IDisposable | undefined;
	private current: LinkState;
	/** What the agent said of itself when the current session opened. */
	private info: ServerInfo;
	private wait: IDisposable | undefined;

	private constructor(
		private readonly endpoint: AgentEndpoint,
		first: AgentConnection,
		info: ServerInfo,
	) {
		super();
		this.current = { type: 'connected', info, renewed: false };
		this.info = info;
		this.adopt(first);
		this._register({
			dispose: () => {
				this.wait?.dispose();
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
				if (this.current.type !== 'connected') {
					this.setState({ type: 'connected', info: this.info, renewed: false });
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
		const result = await renewLink({
			timers: this.endpoint.timers,
			reason,
			attempt: () => AgentConnection.connect(this.endpoint),
			setState: (state) => this.setState(state),
			setWait: (wait) => (this.wait = wait),
			isCancelled: () => this.isDisposed,
		});
		if (!result) {
			return;
		}
		const { connection, info } = result;
		if (this.isDisposed) {
			connection.close();
			return;
		}
		this.info = info;
		this.adopt(connection);
		this.setState({ type: 'connected', info, renewed: true });
	}
}

/**
 * The agent no longer knows the session (it restarted, or the grace ran out): a refusal in words,
 * but one that a new session cures.
 */
function isStaleSession(error: BerthError): boolean {
	return error.reason !== undefined && error.reason.startsWith('Unknown reconnection token');
}
