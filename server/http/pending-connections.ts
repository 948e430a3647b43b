import type { Socket } from 'node:net';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

export interface PendingConnectionsOptions {
	/** Handshakes in progress at once; past it the oldest is dropped. */
	readonly max: number;
	/** Time from TCP accept to the end of the handshake. */
	readonly timeoutMs: number;
	readonly timers: Timers;
	/** Called for each socket dropped (too slow, or pushed out by newer ones) just before it is destroyed. */
	readonly onDrop: (socket: Socket, why: 'timeout' | 'overflow') => void;
}

/**
 * Connections that have not finished their handshake. Each has a deadline, and there is a bound
 * on how many may be pending: when a new one would exceed it, the oldest is dropped. A flood of
 * idle or stalled sockets therefore pushes out its own members, not a good client that arrives
 * after it and finishes in milliseconds.
 */
export class PendingConnections implements IDisposable {
	private readonly pending = new Map<Socket, IDisposable>();

	constructor(private readonly options: PendingConnectionsOptions) {}

	get size(): number {
		return this.pending.size;
	}

	has(socket: Socket): boolean {
		return this.pending.has(socket);
	}

	/** Starts the clock for a new connection. */
	add(socket: Socket): void {
		if (this.pending.has(socket)) {
			return;
		}
		const timer = this.options.timers.timeout(() => this.drop(socket, 'timeout'), this.options.timeoutMs);
		this.pending.set(socket, timer);
		socket.once('close', () => this.settle(socket));
		while (this.pending.size > this.options.max) {
			const oldest = this.pending.keys().next().value as Socket;
			this.drop(oldest, 'overflow');
		}
	}

	/**
	 * The client authenticated: stop tracking it. Every other socket (plain HTTP, which the agent
	 * closes after one answer, or a refused handshake that lingers to read its reason) stays in
	 * the bound until it closes, so unauthenticated peers never hold more than `max` sockets.
	 */
	settle(socket: Socket): void {
		this.pending.get(socket)?.dispose();
		this.pending.delete(socket);
	}

	dispose(): void {
		for (const timer of this.pending.values()) {
			timer.dispose();
		}
		this.pending.clear();
	}

	private drop(socket: Socket, why: 'timeout' | 'overflow'): void {
		this.settle(socket);
		this.options.onDrop(socket, why);
		socket.destroy();
	}
}
