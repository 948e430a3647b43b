import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { AddForwardParams, ForwardInfo, ServerInfo } from '../../protocol/rpc';
import { isObject } from '../../protocol/guards';
import { ForwardStats } from '../shared/forward-stats';
import { isFailure, StreamSocketBridge, type BridgeObserver } from '../shared/stream-socket-bridge';
import { connectTarget } from '../shared/connect-target';
import { resetCodeFor } from '../shared/reset-code';
import type { AgentEndpoint } from './dial';
import type { LocalForwardSpec } from './forward-spec';
import type { Forwarder, ForwardFailure } from './forwarder';
import { countOpenFiles, readOpenFilesLimit } from './fd-limit';
import { listenLocal, type LocalListener } from './local-listener';
import type { LinkState } from './agent-link';
import { renewLink } from './retry';
import { StreamSession } from './stream-session';

/** Where the forwarder's link to the agent stands (the same states as an AgentLink's). */
export type ForwarderState = LinkState;

/** How long a local connection accepted while the agent is unreachable waits for it. */
const HOLD_WHILE_RECONNECTING_MS = 10_000;
/** Warn when open local connections reach this share of the open-files limit. */
const FD_WARNING_SHARE = 0.9;

interface LocalEntry {
	readonly id: string;
	readonly spec: LocalForwardSpec;
	readonly listener: LocalListener;
	readonly stats: ForwardStats;
	/** Watches all of the forward's connections. */
	readonly observer: BridgeObserver;
}

interface RemoteEntry {
	readonly id: string;
	readonly params: AddForwardParams;
	/** The agent's latest word on it. */
	info: ForwardInfo;
}

/**
 * Forwards carried as streams over one stream session with the agent: every local connection
 * of every -L forward becomes a stream (no new socket, no handshake), and the agent's -R
 * listeners send theirs back the same way. When the session drops, its streams close, but the
 * local listeners stay up: the forwarder opens a new session on VS Code's backoff schedule,
 * re-adds the remote forwards, and local connections made meanwhile wait for it (up to 10 s).
 */
export class StreamForwarder extends Disposable implements Forwarder {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidChangeState = this._register(new Emitter<ForwarderState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	private current: StreamSession | undefined;
	private currentState: ForwarderState;
	private readonly locals = new Map<string, LocalEntry>();
	private readonly remotes = new Map<string, RemoteEntry>();
	private readonly held = new Set<{ socket: Socket; entry: LocalEntry; timer: IDisposable }>();
	private wait: IDisposable | undefined;
	private readonly fdLimit = readOpenFilesLimit();
	/** Descriptors held apart from local connections (stdio, the session, listeners), counted at start. */
	private readonly fdBaseline = countOpenFiles();
	private openLocal = 0;
	private warnedFdLimit = false;
	/** Aborted on dispose: connects to remote forwards' targets still under way give up. */
	private readonly connects = new AbortController();

	private constructor(
		private readonly endpoint: AgentEndpoint,
		session: StreamSession,
		info: ServerInfo,
	) {
		super();
		this.currentState = { type: 'connected', info, renewed: false };
		this.adopt(session);
		this._register({
			dispose: () => {
				this.wait?.dispose();
				for (const hold of this.held) {
					hold.timer.dispose();
					hold.socket.destroy();
				}
				this.held.clear();
				for (const entry of this.locals.values()) {
					entry.listener.dispose();
					entry.stats.dispose();
				}
				this.locals.clear();
				this.connects.abort();
				this.current?.close();
			},
		});
	}

	/** Opens the first session; fails at once if the agent cannot be reached or refuses. */
	static async start(endpoint: AgentEndpoint): Promise<StreamForwarder> {
		// Incoming streams can only arrive once the forwarder exists (it asks for remote forwards).
		const ref: { forwarder?: StreamForwarder } = {};
		const { session, info } = await StreamSession.connect(endpoint, (stream, target) =>
			ref.forwarder
				? ref.forwarder.acceptIncoming(stream, target)
				: stream.reset(ResetCode.Rejected, 'not ready'),
		);
		ref.forwarder = new StreamForwarder(endpoint, session, info);
		return ref.forwarder;
	}

	get state(): ForwarderState {
		return this.currentState;
	}

	/** The current session (for RPC such as `listeningPorts`), when connected. */
	get session(): StreamSession | undefined {
		return this.current;
	}

	list(): ForwardInfo[] {
		return [
			...[...this.locals.values()].map((e) => this.describeLocal(e, 'active')),
			...[...this.remotes.values()].map((e) => e.info),
		];
	}

	async addLocal(spec: LocalForwardSpec): Promise<ForwardInfo> {
		const id = randomUUID();
		const stats = new ForwardStats(() => this.announceLocal(id));
		const ref: { entry?: LocalEntry } = {};
		const listener = await listenLocal(
			spec.bind,
			spec.localPort,
			(socket) => {
				if (ref.entry) {
					ref.entry.stats.opened();
					this.countOpen(ref.entry);
					this.carryLocal(ref.entry, socket);
				} else {
					socket.destroy();
				}
			},
			(message) => this._onDidFailConnection.fire({ id, message }),
		);
		const entry: LocalEntry = {
			id,
			spec,
			listener,
			stats,
			observer: {
				toSocket: stats.observer.toSocket!,
				toStream: stats.observer.toStream!,
				closed: (end) => this.localClosed(entry, isFailure(end) ? end.reason : undefined),
			},
		};
		ref.entry = entry;
		this.locals.set(id, entry);
		const info = this.describeLocal(entry, 'active');
		this._onDidChange.fire(info);
		return info;
	}

	async addRemote(params: AddForwardParams): Promise<ForwardInfo> {
		const id = params.id ?? randomUUID();
		const session = this.current;
		if (!session) {
			throw new BerthError('BERTH_ERR_CLOSED', 'not connected to the agent: try again once it is back');
		}
		const info = await session.rpc.request('addForward', { ...params, id });
		const entry: RemoteEntry = { id, params: { ...params, id }, info };
		this.remotes.set(id, entry);
		this._onDidChange.fire(info);
		return info;
	}

	async remove(id: string): Promise<void> {
		const local = this.locals.get(id);
		if (local) {
			this.locals.delete(id);
			local.listener.dispose();
			local.stats.dispose();
			this._onDidChange.fire(this.describeLocal(local, 'closed'));
			return;
		}
		const remote = this.remotes.get(id);
		if (remote) {
			this.remotes.delete(id);
			await this.current?.rpc.request('removeForward', { id }).catch(() => undefined);
			this._onDidChange.fire({ ...remote.info, state: 'closed' });
		}
	}

	// --- local forwards ---------------------------------------------------------------------

	/** Counts open local connections, and warns once they near the open-files limit. */
	private countOpen(entry: LocalEntry): void {
		this.openLocal++;
		if (
			this.fdLimit !== undefined &&
			!this.warnedFdLimit &&
			this.fdBaseline + this.openLocal >= this.fdLimit * FD_WARNING_SHARE
		) {
			this.warnedFdLimit = true;
			this._onDidFailConnection.fire({
				id: entry.id,
				message:
					`${this.openLocal} local connections are open, close to this process's limit of ${this.fdLimit} open files: ` +
					'past it the kernel refuses new ones without notice; raise the limit with ulimit -n',
			});
		}
	}

	/** Carries one accepted (paused) local connection as a stream, or holds it until the agent is back. */
	private carryLocal(entry: LocalEntry, socket: Socket): void {
		const session = this.current;
		if (!session) {
			const hold = {
				socket,
				entry,
				timer: this.endpoint.timers.timeout(() => {
					this.held.delete(hold);
					socket.destroy();
					this.localClosed(entry, 'the agent is unreachable (still reconnecting)');
				}, HOLD_WHILE_RECONNECTING_MS),
			};
			this.held.add(hold);
			return;
		}
		let stream: MuxStream;
		try {
			stream = session.open({ kind: 'tcp', host: entry.spec.host, port: entry.spec.port });
		} catch (error) {
			socket.destroy();
			this.localClosed(entry, errorMessage(error));
			return;
		}
		new StreamSocketBridge(stream, socket, entry.observer).start();
	}

	/** One local connection is over: counted, and reported when it failed. */
	private localClosed(entry: LocalEntry, failure: string | undefined): void {
		this.openLocal--;
		entry.stats.closed(failure);
		if (failure !== undefined) {
			this._onDidFailConnection.fire({ id: entry.id, message: failure });
		}
	}

	private describeLocal(entry: LocalEntry, state: ForwardInfo['state']): ForwardInfo {
		return {
			id: entry.id,
			direction: 'local',
			bindHost: entry.spec.bind,
			bindPort: entry.listener.port,
			targetHost: entry.spec.host,
			targetPort: entry.spec.port,
			state,
			counters: entry.stats.counters,
		};
	}

	private announceLocal(id: string): void {
		const entry = this.locals.get(id);
		if (entry) {
			this._onDidChange.fire(this.describeLocal(entry, 'active'));
		}
	}

	// --- remote forwards --------------------------------------------------------------------

	/** The agent opened a stream for a remote forward: reach its target on this side. */
	private acceptIncoming(stream: MuxStream, target: OpenTarget): void {
		const entry = target.kind === 'reverse' ? this.remotes.get(target.forward) : undefined;
		if (!entry) {
			stream.reset(ResetCode.Rejected, 'no such forward on this client');
			return;
		}
		const { targetHost, targetPort } = entry.params;
		connectTarget(targetHost, targetPort, {
			timers: this.endpoint.timers,
			signal: this.connects.signal,
		}).then(
			(socket) => {
				if (stream.closed) {
					socket.destroy();
					return;
				}
				stream.accept();
				new StreamSocketBridge(stream, socket, undefined).start();
			},
			(error: unknown) => {
				const message = errorMessage(error);
				this._onDidFailConnection.fire({ id: entry.id, message });
				stream.reset(resetCodeFor(error), message);
			},
		);
	}

	private onAgentEvent(event: string, data: unknown): void {
		if (event !== 'forwardChanged' || !isObject(data) || typeof data['id'] !== 'string') {
			return;
		}
		const entry = this.remotes.get(data['id']);
		if (entry) {
			entry.info = data as unknown as ForwardInfo;
			this._onDidChange.fire(entry.info);
		}
	}

	// --- the session ------------------------------------------------------------------------

	private setState(state: ForwarderState): void {
		this.currentState = state;
		this._onDidChangeState.fire(state);
	}

	private adopt(session: StreamSession): void {
		this.current = session;
		session.rpc.onDidReceiveEvent((e) => this.onAgentEvent(e.event as string, e.data));
		session.onDidClose((e) => {
			if (this.current !== session) {
				return;
			}
			this.current = undefined;
			for (const entry of this.remotes.values()) {
				entry.info = { ...entry.info, state: 'failed', error: 'the agent is unreachable' };
				this._onDidChange.fire(entry.info);
			}
			if (!this.isDisposed) {
				void this.reconnect(e.error?.message ?? 'the session ended');
			}
		});
		for (const hold of [...this.held]) {
			this.held.delete(hold);
			hold.timer.dispose();
			this.carryLocal(hold.entry, hold.socket);
		}
	}

	private async reconnect(reason: string): Promise<void> {
		const renewed = await renewLink({
			timers: this.endpoint.timers,
			reason,
			attempt: () =>
				StreamSession.connect(this.endpoint, (stream, target) => this.acceptIncoming(stream, target)),
			setState: (state) => this.setState(state),
			setWait: (wait) => (this.wait = wait),
			isCancelled: () => this.isDisposed,
		});
		if (!renewed) {
			return;
		}
		if (this.isDisposed) {
			renewed.session.close();
			return;
		}
		this.adopt(renewed.session);
		this.setState({ type: 'connected', info: renewed.info, renewed: true });
		for (const entry of this.remotes.values()) {
			renewed.session.rpc.request('addForward', entry.params).then(
				(info) => {
					entry.info = info;
					this._onDidChange.fire(info);
				},
				(error: unknown) => {
					entry.info = { ...entry.info, state: 'failed', error: errorMessage(error) };
					this._onDidChange.fire(entry.info);
				},
			);
		}
	}
}
