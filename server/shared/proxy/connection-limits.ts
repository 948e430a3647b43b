import type { Socket } from 'node:net';
import type { IDisposable } from '../../../protocol/lifecycle';
import type { ProxyConnectionConfig } from '../../../protocol/proxy-config';
import type { Timers } from '../../../protocol/timers';
import type { BridgeEnd, BridgeObserver } from '../stream-socket-bridge';

/** The longest a timer waits at once (setTimeout's limit); longer limits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A proxied connection's `idle` and `ttl` labels, enforced: the connection is closed after `idleMs`
 * without a byte either way, or `ttlMs` after it began, whichever comes first. One timer per
 * connection, re-armed only when it fires (activity just moves a timestamp). As a BridgeObserver
 * it also passes every event on to `next` (the forward's counters).
 */
export class ConnectionLimits implements BridgeObserver, IDisposable {
	private lastActivity: number;
	private readonly startedAt: number;
	private timer: IDisposable | undefined;

	constructor(
		private readonly socket: Socket,
		private readonly config: ProxyConnectionConfig,
		private readonly timers: Timers,
		private readonly next: BridgeObserver | undefined,
		private readonly onExpired: (why: 'idle' | 'ttl') => void = () => undefined,
	) {
		this.startedAt = this.lastActivity = timers.now();
		this.arm();
	}

	/** Whether a config asks for any limit. */
	static applies(config: ProxyConnectionConfig): boolean {
		return config.idleMs !== undefined || config.ttlMs !== undefined;
	}

	toSocket(bytes: number): void {
		this.lastActivity = this.timers.now();
		this.next?.toSocket?.(bytes);
	}

	toStream(bytes: number): void {
		this.lastActivity = this.timers.now();
		this.next?.toStream?.(bytes);
	}

	closed(end: BridgeEnd): void {
		this.dispose();
		this.next?.closed?.(end);
	}

	dispose(): void {
		this.timer?.dispose();
		this.timer = undefined;
	}

	private arm(): void {
		const now = this.timers.now();
		const deadlines: number[] = [];
		if (this.config.idleMs !== undefined) {
			deadlines.push(this.lastActivity + this.config.idleMs);
		}
		if (this.config.ttlMs !== undefined) {
			deadlines.push(this.startedAt + this.config.ttlMs);
		}
		if (deadlines.length === 0) {
			return;
		}
		const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.min(...deadlines) - now));
		this.timer = this.timers.timeout(() => this.check(), wait);
	}

	private check(): void {
		const now = this.timers.now();
		const ttlOver = this.config.ttlMs !== undefined && now - this.startedAt >= this.config.ttlMs;
		const idleOver = this.config.idleMs !== undefined && now - this.lastActivity >= this.config.idleMs;
		if (ttlOver || idleOver) {
			this.timer = undefined;
			this.onExpired(ttlOver ? 'ttl' : 'idle');
			this.socket.destroy();
			return;
		}
		this.arm();
	}
}
