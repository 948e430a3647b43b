import type { Socket } from 'node:net';
import { errorMessage } from '../../protocol/errors';
import { Disposable, toDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import { ConnectionType, parseTunnelArgs } from '../../protocol/wire';
import type { TargetPolicy } from '../shared/target-policy';
import type { Logger } from '../shared/log';
import type {
	ConnectionOutcome,
	ConnectionRequest,
	ConnectionTypeHandler,
	HandshakeReply,
} from '../handshake/connection-types';
import { connectTarget, type TargetResolver } from '../shared/connect-target';
import { pipeTransportAndSocket } from '../shared/pipe';

export interface TunnelConnectionsOptions {
	readonly log: Logger;
	/** The agent's --allow/--deny rules. */
	readonly policy: TargetPolicy;
	/** The connect deadline's clock. */
	readonly timers: Timers;
	/** How target names are resolved; the system's resolver when not given (tests pass their own). */
	readonly resolver?: TargetResolver;
}

/**
 * Tunnel (3) connections: one TCP connection forwarded per agent connection, VS Code's way. As
 * VS Code's server does, the agent connects to the target first and answers `ok` once it is
 * reached, or the connect error as the reason and closes. Unlike VS Code's server (whose Tunnel
 * path throws on WebSocket frames), it works over WebSocket frames as well as raw TCP.
 */
export class TunnelConnections extends Disposable implements ConnectionTypeHandler {
	readonly id = ConnectionType.Tunnel;
	readonly name = 'Tunnel';
	private open = 0;

	constructor(private readonly options: TunnelConnectionsOptions) {
		super();
	}

	/** Tunnel connections currently piping. */
	get openCount(): number {
		return this.open;
	}

	async accept(request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome> {
		const args = parseTunnelArgs(request.args);
		if (!args) {
			return reply.refuse(
				'Invalid tunnel arguments: expected {"host": <name or address>, "port": <1-65535>}',
			);
		}
		let target;
		try {
			target = await this.connect(args.host, args.port, request);
		} catch (error) {
			return reply.refuse(this.isDisposed ? 'the agent is stopping' : errorMessage(error));
		}
		if (this.isDisposed) {
			target.destroy();
			return reply.refuse('the agent is stopping');
		}
		reply.ok();
		this.open++;
		const pipe = pipeTransportAndSocket(request.transport, request.leftover, target, {
			timers: this.options.timers,
		});
		request.transport.resume();
		const stop = this._register({ dispose: () => (target.destroy(), request.transport.dispose()) });
		void pipe.then((result) => {
			this.open--;
			this._store.delete(stop);
			this.options.log.debug('tunnel closed', {
				peer: request.remoteAddress,
				target: `${args.host}:${args.port}`,
				bytesIn: result.bytesToSocket,
				bytesOut: result.bytesToTransport,
				error: result.error?.message,
			});
		});
		return { type: 'accepted', detail: `${args.host}:${args.port}` };
	}

	/** Reaches the target, giving up at once if the agent stops or the client leaves meanwhile. */
	private async connect(host: string, port: number, request: ConnectionRequest): Promise<Socket> {
		const abort = new AbortController();
		const onStop = this._register(toDisposable(() => abort.abort()));
		const onLeave = request.transport.onDidClose(() => abort.abort());
		try {
			const { policy, timers, resolver } = this.options;
			return await connectTarget(host, port, {
				policy,
				timers,
				signal: abort.signal,
				...(resolver ? { resolver } : {}),
			});
		} finally {
			this._store.delete(onStop);
			onLeave.dispose();
		}
	}
}
