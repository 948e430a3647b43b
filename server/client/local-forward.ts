import type { Socket } from 'node:net';
import { errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { ForwardCounters } from '../../protocol/rpc';
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

	private readonly sockets = new Set<Socket>();
	private counts = { open: 0, total: 0, bytesIn: 0, bytesOut: 0 };
	private lastError: string | undefined;

	private listener: LocalListener | undefined;

	private constructor(
		readonly spec: LocalForwardSpec,
		private readonly opener: TunnelOpener,
	) {
		super();
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
	static async listen(spec: LocalForwardSpec, opener: TunnelOpener): Promise<LocalForward> {
		const forward = new LocalForward(spec, opener);
		forward.listener = await listenLocal(
			spec.bind,
			spec.localPort,
			(socket) => forward.forward(socket),
			(message) => forward._onDidFailConnection.fire(message),
		);
		return forward;
	}

	/** The port actually bound (differs from the spec's when it asked for 0). */
	get localPort(): number {
		return this.listener?.port ?? this.spec.localPort;
	}

	get counters(): ForwardCounters {
		return { ...this.counts, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
	}

	private forward(socket: Socket): void {
		this.sockets.add(socket);
		this.counts.total++;
		this.counts.open++;
		socket.on('error', () => undefined); // reported through the pipe or the failure below
		const done = (): void => {
			this.sockets.delete(socket);
			this.counts.open--;
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
					toSocket: (n) => (this.counts.bytesIn += n),
					toTransport: (n) => (this.counts.bytesOut += n),
				});
				transport.resume();
				socket.resume();
				await piping;
				done();
			},
			(error: unknown) => {
				this.lastError = errorMessage(error);
				this._onDidFailConnection.fire(this.lastError);
				socket.destroy();
				done();
			},
		);
	}
}
