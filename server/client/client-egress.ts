import { errorMessage } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { ForwardCounters } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import { bridgeFailure } from '../shared/bridge-failure';
import { createConnectCanceller } from '../shared/connect-canceller';
import { connectTarget } from '../shared/connect-target';
import type { Logger } from '../shared/log';
import { UdpEgress } from '../shared/proxy/udp-egress';
import { resetCodeFor } from '../shared/reset-code';
import { ForwardStats } from '../shared/forward-stats';
import { StreamSocketBridge, type BridgeObserver } from '../shared/stream-socket-bridge';
import { TargetPolicy } from '../shared/target-policy';
import type { Upstream } from '../shared/upstream';

/**
 * Reverse proxy mode on the client (`berth client -r`): the agent's proxy connections arrive as
 * `tcp` and `udp` streams and leave from this host, names resolved here. Refused (Rejected) until
 * the user chose to provide egress: an agent cannot make a client its exit on its own. Its TCP
 * connections are counted (the counters of a reverse proxy row).
 */
export class ClientEgress extends Disposable {
	private readonly _onDidChangeCounters = this._register(new Emitter<void>());
	/** The counters moved (at most once a second). */
	readonly onDidChangeCounters = this._onDidChangeCounters.event;
	/** Connects under way give up when this client stops. */
	private readonly connects = createConnectCanceller();
	private enabled = false;
	private readonly stats: ForwardStats;
	/**
	 * Every carried connection's bytes: the bridge's socket is the target here, so what it sends
	 * towards the stream goes "in", to the proxy's client.
	 */
	private readonly observer: BridgeObserver = {
		toStream: (n) => this.stats.carriedIn(n),
		toSocket: (n) => this.stats.carriedOut(n),
		closed: (end) => this.stats.closed(bridgeFailure(end)),
	};

	constructor(
		private readonly timers: Timers,
		private readonly log: Logger,
		private readonly policy: TargetPolicy = TargetPolicy.openToAll,
		private readonly upstream?: Upstream,
	) {
		super();
		this.stats = this._register(new ForwardStats(() => this._onDidChangeCounters.fire(), timers));
		this._register({ dispose: () => this.connects.abort() });
	}

	/** The TCP connections carried so far, and their bytes. */
	get counters(): ForwardCounters {
		return this.stats.counters;
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
				this.stats.opened();
				new StreamSocketBridge(stream, socket, this.observer).start();
			},
			(error: unknown) => {
				const reason = errorMessage(error);
				this.log.debug('egress refused', { target: formatHostPort(target.host, target.port), reason });
				this.stats.failed(reason);
				stream.reset(resetCodeFor(error), reason);
			},
		);
	}
}
