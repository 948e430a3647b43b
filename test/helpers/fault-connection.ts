import { connect, type Socket } from 'node:net';
import type { IDisposable } from '../../protocol/lifecycle';
import { checkTimerDelay, type Timers } from '../../protocol/timers';
import { allowanceOf, checkByteCount, removeAll, spendFrom, type ByteBudget } from './byte-budget';
import { FaultPipe, type FaultDirection, type PipeOwner } from './fault-pipe';

/** What a connection gets from the proxy that accepted it. */
export interface FaultConnectionContext {
	readonly targetHost: string;
	readonly targetPort: number;
	readonly timers: Timers;
	/** The proxy's budgets, shared by all its connections (the proxy adds to it; spent ones are removed). */
	readonly sharedBudgets: ByteBudget[];
	/** Called once, when both sockets have closed. */
	readonly onDidClose: (connection: FaultConnection) => void;
}

/** The proxy's two sockets of a connection: the one from the client, the one to the target. */
export type FaultSide = 'client' | 'target';

/**
 * One accepted connection through the fault proxy: the client's socket, the socket the proxy
 * opens to the target for it, and a FaultPipe each way. Its methods apply a fault to this
 * connection alone; the proxy's methods apply them to every connection.
 *
 * Closes travel as on a real path: a FIN passes as a half-close (when its direction carries), a
 * reset as a reset. A reset that meets a black hole is lost, as the packet would be, and answered
 * when the hole ends; bytes that reach an end already gone are answered with a reset, as the
 * end's host would do. A connection can start held (the proxy's `pauseAccepting`): the client's
 * bytes wait unread and the target is not dialled until `start()`.
 */
export class FaultConnection implements IDisposable, PipeOwner {
	/** Resolves when both sockets have closed. */
	readonly closed: Promise<void>;
	private resolveClosed!: () => void;
	private target: Socket | undefined;
	private pipes: Record<FaultDirection, FaultPipe> | undefined;
	private readonly budgets: ByteBudget[] = [];
	private silenced = false;
	private readonly severedDirections = new Set<FaultDirection>();
	private delayMs = 0;
	private clientClosed = false;
	private targetClosed = false;
	/** A side that was reset while its outgoing direction was silenced: the reset is owed to the other side. */
	private lostReset: FaultSide | undefined;
	private wasCut = false;

	constructor(
		/** The connection's number at its proxy, from 1. */
		readonly id: number,
		private readonly client: Socket,
		private readonly context: FaultConnectionContext,
	) {
		this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
		client.pause();
		client.on('error', () => undefined); // the close handler acts on it
		client.on('close', (hadError) => this.onSocketClose('client', hadError));
	}

	/** Whether the connection waits for `start()` (accepted while the proxy held new connections). */
	get isHeld(): boolean {
		return this.target === undefined && !this.clientClosed;
	}

	/** Whether either socket is still open. */
	get isOpen(): boolean {
		return !this.clientClosed || (this.target !== undefined && !this.targetClosed);
	}

	/** Whether a fault cut this connection (cut, cutAfterBytes, or the proxy's). */
	get isCut(): boolean {
		return this.wasCut;
	}

	/** Whether the proxy's socket on `side` has closed (a close the other side may not have heard of). */
	hasClosed(side: FaultSide): boolean {
		return side === 'client' ? this.clientClosed : this.targetClosed;
	}

	/** Bytes passed in `direction`. */
	bytes(direction: FaultDirection): number {
		return this.pipes?.[direction].forwarded ?? 0;
	}

	/** Bytes read in `direction` and discarded by a fault. */
	dropped(direction: FaultDirection): number {
		return this.pipes?.[direction].dropped ?? 0;
	}

	/** Bytes the proxy holds for `direction` now (delay queue and unsent buffer): stays bounded. */
	buffered(direction: FaultDirection): number {
		return this.pipes?.[direction].buffered ?? 0;
	}

	/** Whether the proxy has stopped reading `direction`'s source because its far side is full (back-pressure). */
	isPaused(direction: FaultDirection): boolean {
		return this.pipes?.[direction].isPaused ?? this.isHeld;
	}

	/** Dials the target and starts carrying bytes; does nothing if already started or closed. */
	start(): void {
		if (this.target || this.clientClosed) {
			return;
		}
		const target = connect({
			host: this.context.targetHost,
			port: this.context.targetPort,
			allowHalfOpen: true,
			noDelay: true,
		});
		this.target = target;
		target.on('error', () => undefined); // the close handler acts on it
		target.on('close', (hadError) => this.onSocketClose('target', hadError));
		const { timers } = this.context;
		this.pipes = {
			toTarget: new FaultPipe('toTarget', this.client, target, this, timers),
			toClient: new FaultPipe('toClient', target, this.client, this, timers),
		};
		for (const pipe of Object.values(this.pipes)) {
			pipe.setDelay(this.delayMs);
			pipe.silence(this.silenced);
			if (this.severedDirections.has(pipe.direction)) {
				pipe.sever();
			}
		}
	}

	/** Cuts both directions at once: both ends see a reset (ECONNRESET), not a FIN. */
	cut(): void {
		if (!this.isOpen) {
			return;
		}
		this.wasCut = true;
		this.stopCarrying();
		reset(this.client);
		if (this.target) {
			reset(this.target);
		}
	}

	/** Stops carrying `direction` for good (bytes and FIN dropped); the other direction still flows. */
	cutDirection(direction: FaultDirection): void {
		this.severedDirections.add(direction);
		this.pipes?.[direction].sever();
	}

	/**
	 * A black hole, or its end: nothing passes either way and nothing closes; bytes read meanwhile
	 * are lost. At its end, a reset that a side sent into the hole reaches the other side.
	 */
	blackhole(on: boolean): void {
		this.silenced = on;
		if (this.pipes) {
			this.pipes.toTarget.silence(on);
			this.pipes.toClient.silence(on);
		}
		const owed = this.lostReset;
		if (!on && owed) {
			this.lostReset = undefined;
			this.resetOtherThan(owed);
		}
	}

	/** Every chunk read from now on waits `ms` more, both ways (order kept). */
	delay(ms: number): void {
		this.delayMs = checkTimerDelay('the fault proxy delay', ms);
		this.pipes?.toTarget.setDelay(ms);
		this.pipes?.toClient.setDelay(ms);
	}

	/**
	 * Cuts this connection once `bytes` more have passed in `direction` (both together if
	 * undefined): exactly that many pass, then both ends see a reset (the far end may miss the last
	 * of them if its kernel had not taken them yet, as on any cut). Resolves true
	 * at the cut, false if the connection closed first.
	 */
	cutAfterBytes(bytes: number, direction?: FaultDirection): Promise<boolean> {
		if (checkByteCount(bytes) === 0) {
			this.cut();
			return Promise.resolve(true);
		}
		return new Promise((resolve) => {
			if (!this.isOpen) {
				resolve(false);
				return;
			}
			this.budgets.push({
				remaining: bytes,
				direction,
				onSpent: () => resolve(true),
				onAbandoned: () => resolve(false),
			});
		});
	}

	/** Closes both sockets (a plain close, not a fault). */
	dispose(): void {
		this.stopCarrying();
		this.client.destroy();
		this.target?.destroy();
	}

	/** For FaultPipe. */
	allowance(direction: FaultDirection, length: number): number {
		return allowanceOf(this.allBudgets(), direction, length);
	}

	/** For FaultPipe. */
	spend(direction: FaultDirection, bytes: number): (() => void) | undefined {
		const spent = spendFrom(this.allBudgets(), direction, bytes);
		if (spent.length === 0) {
			return undefined;
		}
		removeAll(this.budgets, spent);
		removeAll(this.context.sharedBudgets, spent);
		this.stopCarrying();
		return () => {
			this.cut();
			for (const budget of spent) {
				budget.onSpent(this);
			}
		};
	}

	/** For FaultPipe: the sink of `direction` is gone, so its source gets the reset its host would send. */
	sinkGone(direction: FaultDirection): void {
		this.resetOtherThan(direction === 'toTarget' ? 'target' : 'client');
	}

	private allBudgets(): ByteBudget[] {
		return [...this.budgets, ...this.context.sharedBudgets];
	}

	private stopCarrying(): void {
		this.pipes?.toTarget.sever();
		this.pipes?.toClient.sever();
	}

	private onSocketClose(side: FaultSide, hadError: boolean): void {
		if (side === 'client') {
			this.clientClosed = true;
		} else {
			this.targetClosed = true;
		}
		const outgoing = this.pipes?.[side === 'client' ? 'toTarget' : 'toClient'];
		if (hadError && outgoing?.isDropping) {
			this.lostReset = this.silenced && !this.severedDirections.has(outgoing.direction) ? side : undefined;
		} else if (hadError) {
			this.resetOtherThan(side);
		}
		if (!this.isOpen) {
			this.pipes?.toTarget.dispose();
			this.pipes?.toClient.dispose();
			for (const budget of this.budgets.splice(0)) {
				budget.onAbandoned();
			}
			this.context.onDidClose(this);
			this.resolveClosed();
		}
	}

	private resetOtherThan(side: FaultSide): void {
		const other = side === 'client' ? this.target : this.client;
		if (other) {
			reset(other);
		}
	}
}

/** Closes `socket` with a reset (RST: the peer sees ECONNRESET), or plainly if it never connected. */
function reset(socket: Socket): void {
	if (socket.destroyed) {
		return;
	}
	if (socket.connecting) {
		socket.destroy();
	} else {
		socket.resetAndDestroy();
	}
}
