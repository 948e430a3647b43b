import { randomUUID } from 'node:crypto';
import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import { isForwardInfo, type AddForwardParams, type AgentEvents, type ForwardInfo } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import { connectTarget } from '../shared/connect-target';
import { resetCodeFor } from '../shared/reset-code';
import { StreamSocketBridge } from '../shared/stream-socket-bridge';
import type { ForwardFailure } from './forwarder';
import type { StreamSession } from './stream-session';
import { createConnectCanceller } from '../shared/connect-canceller';
import type { OwnForwardReservation } from './own-forwards';
import { bindHosts } from './forward-loop';

interface RemoteEntry {
	/** What to ask the agent for again on a new session (with the id, which stays the same). */
	readonly params: AddForwardParams & { readonly id: string };
	/** The agent's latest word on it. */
	info: ForwardInfo;
	/** Its place among this client's forwards (the loop check), released when it ends. */
	readonly reservation: OwnForwardReservation | undefined;
}

/** Records a forward among this client's, once its port is known. @throws BerthError BERTH_ERR_LOOP. */
export type RemoteReserver = (bindPort: number) => OwnForwardReservation;

/** An event from the agent, as a stream session's RPC endpoint delivers it (data unchecked). */
export type AgentEvent = { [K in keyof AgentEvents]: { event: K; data: AgentEvents[K] } }[keyof AgentEvents];

/**
 * The client's side of -R forwards: the agent listens, and opens a stream back for each
 * connection, which this side carries to the forward's target. The agent drops a session's
 * listeners with the session, so after a session loss every forward is asked for again
 * (`restore`), under the same id.
 */
export class RemoteForwardsClient extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	/** A forward was added, failed, restored or removed, or the agent reported its counters. */
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;

	private readonly entries = new Map<string, RemoteEntry>();
	/** Aborted on dispose: connects to targets still under way give up at once. */
	private readonly connects = createConnectCanceller();

	constructor(private readonly timers: Timers) {
		super();
		this._register({
			dispose: () => {
				this.connects.abort();
				for (const entry of this.entries.values()) {
					entry.reservation?.dispose();
				}
			},
		});
	}

	list(): ForwardInfo[] {
		return [...this.entries.values()].map((entry) => entry.info);
	}

	/**
	 * Asks the agent to listen. `reserve` records the forward among this client's: before asking
	 * when the port is given, once the agent has chosen one otherwise (a refusal then closes it).
	 * @throws BerthError BERTH_ERR_LOOP from `reserve`; what the agent answers (BERTH_ERR_RPC with
	 *   its code as the reason).
	 */
	async add(
		session: StreamSession,
		params: AddForwardParams,
		reserve?: RemoteReserver,
	): Promise<ForwardInfo> {
		const withId = { ...params, id: params.id ?? randomUUID() };
		let reservation = params.bindPort !== 0 ? reserve?.(params.bindPort) : undefined;
		let info: ForwardInfo;
		try {
			info = await session.rpc.request('addForward', withId);
			reservation ??= reserve?.(info.bindPort);
		} catch (error) {
			reservation?.dispose();
			if (error instanceof BerthError && error.code === 'BERTH_ERR_LOOP') {
				await session.rpc.request('removeForward', { id: withId.id }).catch(() => undefined);
			}
			throw error;
		}
		this.entries.set(withId.id, { params: withId, info, reservation });
		this._onDidChange.fire(info);
		return info;
	}

	/**
	 * Forgets the forward and asks the agent to close its listener. Without a session there is
	 * nothing to ask: the agent closed the listener with the session.
	 * @throws BerthError when the agent did not confirm (the forward has left the list anyway).
	 */
	async remove(session: StreamSession | undefined, id: string): Promise<void> {
		const entry = this.entries.get(id);
		if (!entry) {
			return;
		}
		this.entries.delete(id);
		entry.reservation?.dispose();
		this._onDidChange.fire({ ...entry.info, state: 'closed' });
		try {
			await session?.rpc.request('removeForward', { id });
		} catch (error) {
			if (error instanceof BerthError && error.code === 'BERTH_ERR_CLOSED') {
				return; // the session ended meanwhile, and its listeners with it
			}
			throw new BerthError(
				error instanceof BerthError ? error.code : 'BERTH_ERR_RPC',
				`the agent did not confirm closing the forward (its listener may stay until this session ends): ${errorMessage(error)}`,
				error instanceof BerthError ? error.reason : undefined,
				{ cause: error },
			);
		}
	}

	/** The agent opened a stream for a remote forward: reach its target on this side. */
	accept(stream: MuxStream, target: OpenTarget): void {
		const entry = target.kind === 'reverse' ? this.entries.get(target.forward) : undefined;
		if (!entry) {
			stream.reset(ResetCode.Rejected, 'no such forward on this client');
			return;
		}
		const { id, targetHost, targetPort } = entry.params;
		connectTarget(targetHost, targetPort, { timers: this.timers, signal: this.connects.signal }).then(
			(socket) => {
				if (stream.closed || this.isDisposed) {
					socket.destroy();
					return;
				}
				stream.accept();
				new StreamSocketBridge(stream, socket, undefined).start();
			},
			(error: unknown) => {
				const message = errorMessage(error);
				this._onDidFailConnection.fire({ id, message });
				stream.reset(resetCodeFor(error), message);
			},
		);
	}

	/** An event from the agent: `forwardChanged` updates the forward it names. */
	receive(event: AgentEvent): void {
		if (event.event !== 'forwardChanged') {
			return;
		}
		const info: unknown = event.data;
		if (!isForwardInfo(info) || info.direction !== 'remote') {
			return;
		}
		const entry = this.entries.get(info.id);
		if (entry) {
			entry.info = info;
			this._onDidChange.fire(info);
		}
	}

	/** The session is gone, and the agent's listeners with it. */
	sessionLost(): void {
		for (const entry of this.entries.values()) {
			entry.info = { ...entry.info, state: 'failed', error: 'the agent is unreachable' };
			this._onDidChange.fire(entry.info);
		}
	}

	/** A new session is up: asks for every forward again. */
	restore(session: StreamSession): void {
		for (const entry of this.entries.values()) {
			session.rpc.request('addForward', entry.params).then(
				(info) => this.update(entry, info),
				(error: unknown) =>
					this.update(entry, { ...entry.info, state: 'failed', error: errorMessage(error) }),
			);
		}
	}

	private update(entry: RemoteEntry, info: ForwardInfo): void {
		// Removed while the request was out: the agent's answer no longer concerns anyone.
		if (this.entries.get(entry.params.id) === entry && !this.isDisposed) {
			if (info.bindPort !== entry.info.bindPort && info.state === 'active') {
				entry.reservation?.listening(bindHosts(info.bindHost), info.bindPort); // the agent chose anew
			}
			entry.info = info;
			this._onDidChange.fire(info);
		}
	}
}
