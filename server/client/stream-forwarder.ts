import { BerthError } from '../../protocol/errors';
import { Disposable, DisposableStore, Emitter } from '../../protocol/lifecycle';
import type { AddForwardParams, ForwardInfo, ServerInfo } from '../../protocol/rpc';
import type { AgentEndpoint } from './dial';
import { countOpenFiles, readOpenFilesLimit } from './fd-limit';
import type { LocalForwardSpec } from './forward-spec';
import type { Forwarder, ForwardFailure } from './forwarder';
import type { LinkState } from './link-state';
import { LocalForwards, type OpenFiles } from './local-forwards';
import { RemoteForwardsClient } from './remote-forwards-client';
import { isPermanentError, reconnectDelayMs, retry, type RetryRun } from './retry';
import { StreamSession } from './stream-session';

/** Where the forwarder's link to the agent stands (the same states as an AgentLink's). */
export type ForwarderState = LinkState;

/**
 * Forwards carried as streams over one stream session with the agent: every local connection
 * of every -L forward becomes a stream (no new socket, no handshake), and the agent's -R
 * listeners send theirs back the same way. This class owns the session: when it drops, its
 * streams close, but the local listeners stay up; a new session is opened on VS Code's backoff
 * schedule, the remote forwards are asked for again, and local connections made meanwhile wait
 * for it (up to 10 s; see LocalForwards).
 */
export class StreamForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidChangeState = this._register(new Emitter<ForwarderState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	private current: StreamSession | undefined;
	/** Subscriptions to the current session's events. */
	private sessionEvents: DisposableStore | undefined;
	private currentState: ForwarderState;
	private renewal: RetryRun<{ session: StreamSession; info: ServerInfo }> | undefined;
	private readonly locals: LocalForwards;

	private constructor(
		private readonly endpoint: AgentEndpoint,
		private readonly remotes: RemoteForwardsClient,
		openFiles: OpenFiles,
		session: StreamSession,
		info: ServerInfo,
	) {
		super();
		this._register(remotes);
		this.locals = this._register(
			new LocalForwards({ timers: endpoint.timers, session: () => this.current, openFiles }),
		);
		for (const part of [this.locals, this.remotes]) {
			this._register(part.onDidChange((e) => this._onDidChange.fire(e)));
			this._register(part.onDidFailConnection((e) => this._onDidFailConnection.fire(e)));
		}
		this.currentState = { type: 'connected', info, renewed: false };
		this.adopt(session);
		this._register({
			dispose: () => {
				this.renewal?.dispose();
				this.sessionEvents?.dispose();
				this.current?.close();
			},
		});
	}

	/** Opens the first session; fails at once if the agent cannot be reached or refuses. */
	static async start(endpoint: AgentEndpoint): Promise<StreamForwarder> {
		// The agent may open streams for remote forwards as soon as the session is up.
		const remotes = new RemoteForwardsClient(endpoint.timers);
		try {
			const { session, info } = await StreamSession.connect(endpoint, (stream, target) =>
				remotes.accept(stream, target),
			);
			const openFiles = { limit: readOpenFilesLimit(), baseline: countOpenFiles() };
			return new StreamForwarder(endpoint, remotes, openFiles, session, info);
		} catch (error) {
			remotes.dispose();
			throw error;
		}
	}

	get state(): ForwarderState {
		return this.currentState;
	}

	/** The current session (for RPC such as `listeningPorts`), when connected. */
	get session(): StreamSession | undefined {
		return this.current;
	}

	list(): ForwardInfo[] {
		return [...this.locals.list(), ...this.remotes.list()];
	}

	addLocal(spec: LocalForwardSpec): Promise<ForwardInfo> {
		return this.locals.add(spec);
	}

	addRemote(params: AddForwardParams): Promise<ForwardInfo> {
		const session = this.current;
		if (!session) {
			return Promise.reject(
				new BerthError('BERTH_ERR_CLOSED', 'not connected to the agent: try again once it is back'),
			);
		}
		return this.remotes.add(session, params);
	}

	/** @throws BerthError when the agent did not confirm closing a remote forward (it has left the list anyway). */
	async remove(id: string): Promise<void> {
		if (!this.locals.remove(id)) {
			await this.remotes.remove(this.current, id);
		}
	}

	private setState(state: ForwarderState): void {
		this.currentState = state;
		this._onDidChangeState.fire(state);
	}

	private adopt(session: StreamSession): void {
		this.current = session;
		this.sessionEvents?.dispose();
		const events = (this.sessionEvents = new DisposableStore());
		events.add(session.rpc.onDidReceiveEvent((event) => this.remotes.receive(event)));
		events.add(session.onDidClose((e) => this.lost(session, e.error?.message ?? 'the session ended')));
		this.locals.release();
	}

	private lost(session: StreamSession, reason: string): void {
		if (this.current !== session) {
			return;
		}
		this.current = undefined;
		this.sessionEvents?.dispose();
		this.sessionEvents = undefined;
		this.remotes.sessionLost();
		if (!this.isDisposed) {
			void this.renew(reason);
		}
	}

	private async renew(reason: string): Promise<void> {
		this.renewal = retry({
			timers: this.endpoint.timers,
			firstError: reason,
			attempt: () =>
				StreamSession.connect(this.endpoint, (stream, target) => this.remotes.accept(stream, target)),
			schedule: reconnectDelayMs,
			isPermanent: isPermanentError,
			onWait: (wait) => this.setState({ type: 'reconnecting', ...wait }),
			discard: ({ session }) => session.close(),
		});
		const outcome = await this.renewal.outcome;
		this.renewal = undefined;
		switch (outcome.type) {
			case 'succeeded': {
				const { session, info } = outcome.value;
				if (this.isDisposed) {
					session.close();
					return;
				}
				this.adopt(session);
				this.setState({ type: 'connected', info, renewed: true });
				this.remotes.restore(session);
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
