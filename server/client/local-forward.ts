import type { Socket } from 'node:net';
import { errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { ForwardCounters } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import { ForwardStats } from '../shared/forward-stats';
import { pipeTransportAndSocket } from '../shared/pipe';
import type { DialedConnection } from './dial';
import type { LocalForwardSpec } from './forward-spec';
import { listenLocal, type LocalListener } from './local-listener';

/** Opens the agent-side end of one forwarded connection. */
export type TunnelOpener = (host: string, port: number) => Promise<DialedConnection>;

/**
 * A -L forward: a local TCP listener whose every accepted connection is carried to host:port on
 * the agent's side by a connection that `opener` makes. A connection the agent cannot complete
 * (target refused, policy) closes that one local socket and is reported; the listener stays.
 */
export class LocalForward extends Disposable {
	private readonly _onDidFailConnection = this._register(new Emitter<string>());
	/** One forwarded connection failed; the message names the target and the cause. */
	readonly onDidFailConnection = this._onDidFailConnection.event;
	private readonly _onDidChangeCounters = this._register(new Emitter<void>());
	/** The counters moved (at most once a second, as ForwardStats throttles). */
	readonly onDidChangeCounters = this._onDidChangeCounters.event;

	private readonly sockets = new Set<Socket>();
	private readonly stats: ForwardStats;
	private listener: LocalListener | undefined;

	private constructor(
		readonly spec: LocalForwardSpec,
		private readonly opener: TunnelOpener,
		private readonly timers: Timers,
	) {
		super();
		this.stats = this._register(new ForwardStats(() => this._onDidChangeCounters.fire(), timers));
		this._register({
			dispose: () => {
				this.listener?.dispose();
				for (const socket of this.sockets) {
					socket.destroy();
				}
			},
		});
	}

	/**
	 * Starts listening (both loopbacks for `localhost`).
	 * @throws BerthError BERTH_ERR_LISTEN when the local port is taken or not allowed.
	 */
	static async listen(spec: LocalForwardSpec, opener: TunnelOpener, timers: Timers): Promise<LocalForward> {
		const forward = new LocalForward(spec, opener, timers);
		try {
			forward.listener = await listenLocal(
				spec.bind,
				spec.localPort,
				(socket) => forward.forward(socket),
				(message) => forward._onDidFailConnection.fire(message),
			);
		} catch (error) {
			forward.dispose();
			throw error;
		}
		return forward;
	}

	/** The port actually bound (differs from the spec's when it asked for 0). */
	get localPort(): number {
		return this.listener?.port ?? this.spec.localPort;
	}

	/** Every address listened on (both loopbacks for `localhost`). */
	get addresses(): readonly string[] {
		return this.listener?.addresses ?? [];
	}

	get counters(): ForwardCounters {
		return this.stats.counters;
	}

	private forward(socket: Socket): void {
		this.sockets.add(socket);
		this.stats.opened();
		socket.on('error', () => undefined); // reported through the pipe or the failure below
		const done = (failure?: string): void => {
			this.sockets.delete(socket);
			this.stats.closed(failure);
		};
		this.opener(this.spec.host, this.spec.port).then(
			async ({ transport, leftover }) => {
				if (this.isDisposed || socket.destroyed) {
					transport.dispose();
					socket.destroy();
					done();
					return;
				}
				const piping = pipeTransportAndSocket(transport, leftover, socket, {
					timers: this.timers,
					meter: {
						toSocket: (n) => this.stats.carriedIn(n),
						toTransport: (n) => this.stats.carriedOut(n),
					},
				});
				transport.resume();
				socket.resume();
				await piping;
				done();
			},
			(error: unknown) => {
				const message = errorMessage(error);
				socket.destroy();
				done(message);
				this._onDidFailConnection.fire(message);
			},
		);
	}
}
