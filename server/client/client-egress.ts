import { errorMessage } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import { Disposable } from '../../protocol/lifecycle';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { Timers } from '../../protocol/timers';
import { createConnectCanceller } from '../shared/connect-canceller';
import { connectTarget } from '../shared/connect-target';
import type { Logger } from '../shared/log';
import { UdpEgress } from '../shared/proxy/udp-egress';
import { resetCodeFor } from '../shared/reset-code';
import { StreamSocketBridge } from '../shared/stream-socket-bridge';
import { TargetPolicy } from '../shared/target-policy';
import type { Upstream } from '../shared/upstream';

/**
 * Reverse proxy mode on the client (`berth client -r`): the agent's proxy connections arrive as
 * `tcp` and `udp` streams and leave from this host, names resolved here. Refused (Rejected) until
 * the user chose to provide egress: an agent cannot make a client its exit on its own.
 */
export class ClientEgress extends Disposable {
	/** Connects under way give up when this client stops. */
	private readonly connects = createConnectCanceller();
	private enabled = false;

	constructor(
		private readonly timers: Timers,
		private readonly log: Logger,
		private readonly policy: TargetPolicy = TargetPolicy.openToAll,
		private readonly upstream?: Upstream,
	) {
		super();
		this._register({ dispose: () => this.connects.abort() });
	}

	/** From now on the agent's `tcp`/`udp` streams are carried. */
	enable(): void {
		this.enabled = true;
	}

	get isEnabled(): boolean {
		return this.enabled;
	}

	accept(stream: MuxStream, target: Exclude<OpenTarget, { kind: 'reverse' }>): void {
		if (!this.enabled || this.isDisposed) {
			stream.reset(ResetCode.Rejected, 'this client does not provide egress (berth client -r does)');
			return;
		}
		if (target.kind === 'udp') {
			new UdpEgress(stream, this.policy, this.log.fork('udp'));
			return;
		}
		const options = {
			policy: this.policy,
			timers: this.timers,
			signal: this.connects.signal,
			...(this.upstream ? { upstream: this.upstream } : {}),
		};
		connectTarget(target.host, target.port, options).then(
			(socket) => {
				if (stream.closed || this.isDisposed) {
					socket.destroy();
					return;
				}
				stream.accept();
				new StreamSocketBridge(stream, socket, undefined).start();
			},
			(error: unknown) => {
				const reason = errorMessage(error);
				this.log.debug('egress refused', { target: formatHostPort(target.host, target.port), reason });
				stream.reset(resetCodeFor(error), reason);
			},
		);
	}
}
