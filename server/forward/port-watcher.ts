import { errorMessage } from '../../protocol/errors';
import { Disposable, type IDisposable } from '../../protocol/lifecycle';
import type { ListeningPort } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import { diffPorts, type ListeningPortScanner } from './listening-ports';

/** Shortest interval between two scans. */
const MIN_SCAN_INTERVAL_MS = 2_000;
/** A scan may take at most this share of the time (VS Code: 20 × the scan's duration). */
const SCAN_DUTY_FACTOR = 20;
/**
 * Longest interval between two scans, whatever a scan took: on a host busy with thousands of
 * connections one scan can take a few hundred ms, and 20 × that left new ports unreported for
 * 10 s and more (users wait for a port they just started). At most 4 s keeps a slow scan's duty
 * under a quarter of one core's time.
 */
const MAX_SCAN_INTERVAL_MS = 4_000;

export type PortsChange = {
	readonly added: readonly ListeningPort[];
	readonly removed: readonly ListeningPort[];
};

/** Whether a listening port is left out of every list (a client's declared forward listener). */
export type PortFilter = (port: ListeningPort) => boolean;

/**
 * Watches the host's listening ports for whoever subscribes (sessions that feed auto-forwarding):
 * scans every 2 s (slower if scans are slow) while anyone listens, not at all otherwise. Ports
 * that `exclude` names are left out of every answer and change; when what it names changes,
 * `refilter` tells the subscribers at once (a listener declared after a scan saw it goes as
 * `removed`), without waiting for the next scan.
 */
export class PortWatcher extends Disposable {
	private readonly listeners = new Set<(change: PortsChange) => void>();
	/** The last scan as the subscribers saw it (filtered), and as it was. */
	private last: ListeningPort[] | undefined;
	private lastScan: ListeningPort[] | undefined;
	private timer: IDisposable | undefined;
	private scanning: Promise<ListeningPort[]> | undefined;

	constructor(
		private readonly scanner: ListeningPortScanner,
		private readonly timers: Timers,
		private readonly log: Logger,
		private readonly exclude: PortFilter = () => false,
	) {
		super();
		this._register({ dispose: () => this.timer?.dispose() });
	}

	/** The ports listening now (a fresh scan), without the excluded ones. */
	async current(): Promise<ListeningPort[]> {
		return this.filter(await this.scan());
	}

	/** What `exclude` names changed: subscribers get the difference now. */
	refilter(): void {
		if (this.lastScan && this.last) {
			this.publish(this.filter(this.lastScan));
		}
	}

	subscribe(listener: (change: PortsChange) => void): IDisposable {
		this.listeners.add(listener);
		if (this.listeners.size === 1) {
			this.schedule(0);
		}
		return {
			dispose: () => {
				this.listeners.delete(listener);
				if (this.listeners.size === 0) {
					this.timer?.dispose();
					this.timer = undefined;
					this.last = undefined;
					this.lastScan = undefined;
				}
			},
		};
	}

	private scan(): Promise<ListeningPort[]> {
		this.scanning ??= this.scanner.scan().finally(() => (this.scanning = undefined));
		return this.scanning;
	}

	private filter(ports: readonly ListeningPort[]): ListeningPort[] {
		return ports.filter((port) => !this.exclude(port));
	}

	/** Sends the difference from what subscribers last saw (nothing on the first scan: it is the baseline). */
	private publish(ports: ListeningPort[]): void {
		if (this.last) {
			const change = diffPorts(this.last, ports);
			if (change.added.length > 0 || change.removed.length > 0) {
				for (const listener of [...this.listeners]) {
					listener(change);
				}
			}
		}
		this.last = ports;
	}

	private schedule(delayMs: number): void {
		this.timer?.dispose();
		this.timer = this.timers.timeout(() => void this.poll(), delayMs);
	}

	private async poll(): Promise<void> {
		const started = this.timers.now();
		try {
			const ports = await this.scan();
			if (this.isDisposed || this.listeners.size === 0) {
				return;
			}
			this.lastScan = ports;
			// Filtered now, not when the scan began: a declaration that arrived meanwhile counts.
			this.publish(this.filter(ports));
		} catch (error) {
			this.log.warn('listening port scan failed', { error: errorMessage(error) });
		}
		if (!this.isDisposed && this.listeners.size > 0) {
			const took = this.timers.now() - started;
			this.schedule(Math.min(MAX_SCAN_INTERVAL_MS, Math.max(MIN_SCAN_INTERVAL_MS, SCAN_DUTY_FACTOR * took)));
		}
	}
}
