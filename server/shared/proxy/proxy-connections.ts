import type { Socket } from 'node:net';
import { ResetCode } from '../../../protocol/mux-frames';
import type { MuxStream } from '../../../protocol/mux-stream';
import type { Timers } from '../../../protocol/timers';
import type { Logger } from '../log';
import { StreamSocketBridge, type BridgeObserver } from '../stream-socket-bridge';
import { ConnectionLimits } from './connection-limits';
import type { ProxyCredentials } from './proxy-credentials';
import type { ProxyRequest, ProxyRoute } from './proxy-route';

/** Counts a proxy's connections: a bridge observer that also hears when each one starts. */
export interface ProxyObserver extends BridgeObserver {
	/** A connection's target answered and its bytes start to flow (`closed` follows, once). */
	opened?(): void;
}

/**
 * What every connection of one proxy port shares: where they go, the credentials they must show,
 * the observer that counts them, and how an accepted one is joined to its stream (with its
 * `idle`/`ttl` limits when it asked for any).
 */
export class ProxyConnections {
	constructor(
		readonly route: ProxyRoute,
		readonly credentials: ProxyCredentials,
		readonly timers: Timers,
		private readonly log: Logger,
		private readonly observer: ProxyObserver | undefined,
	) {}

	/** Joins a socket to the stream its request opened; `initial` are bytes already read past the request. */
	bridge(stream: MuxStream, socket: Socket, request: ProxyRequest, initial: readonly Uint8Array[]): void {
		if (socket.destroyed) {
			// The client left while its target was being reached: its 'close' has come and gone.
			stream.reset(ResetCode.Closed, 'the proxy client closed its connection');
			return;
		}
		this.observer?.opened?.();
		const observer = ConnectionLimits.applies(request.config)
			? new ConnectionLimits(socket, request.config, this.timers, this.observer, (why) =>
					this.log.debug('closed a proxied connection at its limit', {
						why,
						name: request.name,
						target: `${request.target.host}:${request.target.port}`,
					}),
				)
			: this.observer;
		new StreamSocketBridge(stream, socket, observer).start(initial);
	}
}
