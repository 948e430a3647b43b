import { Disposable } from '../../protocol/lifecycle';
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
import { connectTarget } from '../shared/connect-target';
import { pipeTransportAndSocket } from '../shared/pipe';

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

	constructor(
		private readonly log: Logger,
		private readonly policy: TargetPolicy,
		private readonly timers: Timers,
	) {
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
			target = await connectTarget(args.host, args.port, { policy: this.policy });
		} catch (error) {
			return reply.refuse((error as Error).message);
		}
		if (this.isDisposed) {
			target.destroy();
			return reply.refuse('the agent is stopping');
		}
		reply.ok();
		this.open++;
		const pipe = pipeTransportAndSocket(request.transport, request.leftover, target, {
			timers: this.timers,
		});
		request.transport.resume();
		const stop = this._register({ dispose: () => (target.destroy(), request.transport.dispose()) });
		void pipe.then((result) => {
			this.open--;
			this._store.delete(stop);
			this.log.debug('tunnel closed', {
				peer: request.remoteAddress,
				target: `${args.host}:${args.port}`,
				bytesIn: result.bytesToSocket,
				bytesOut: result.bytesToTransport,
				error: result.error?.message,
			});
		});
		return { type: 'accepted', detail: `${args.host}:${args.port}` };
	}
}
