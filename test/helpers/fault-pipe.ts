import type { Socket } from 'node:net';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

/** Which way bytes travel through the fault proxy: from the client towards the target, or back. */
export type FaultDirection = 'toTarget' | 'toClient';

/**
 * The bytes a delayed direction holds before it stops reading its source. A delay then limits
 * throughput to about this much per delay, as a TCP window over a long path does, and the proxy's
 * memory stays bounded however fast the source writes.
 */
const DELAY_QUEUE_BYTES = 1024 * 1024;

/** What a pipe asks of the connection it belongs to. */
export interface PipeOwner {
	/** How many of the next `length` bytes in `direction` may pass before a byte budget runs out. */
	allowance(direction: FaultDirection, length: number): number;
	/**
	 * Records `bytes` passed in `direction`. When that spent a budget, the owner stops both pipes
	 * and returns the cut, to run once these last bytes are written; otherwise undefined.
	 */
	spend(direction: FaultDirection, bytes: number): (() => void) | undefined;
	/** Bytes arrived for a sink that is gone: the owner answers as a host does, with a reset. */
	sinkGone(direction: FaultDirection): void;
}

/** One chunk waiting out its delay, with the time it may go (on the Timers' clock). */
interface DelayedChunk {
	readonly chunk: Buffer;
	readonly dueAt: number;
}

/**
 * One direction of one proxied connection: reads `source`, writes `sink`, and applies the faults
 * to what passes. Bytes are dropped while the pipe is silenced (a black hole, reversible) or
 * severed (a cut direction or a cut connection, final); dropped bytes are read and discarded, so
 * nothing piles up and nothing dropped is ever delivered later. Otherwise bytes keep their order,
 * wait out the delay if one is set, and pass within the owner's byte budgets.
 *
 * Back-pressure: the source is paused while the sink's buffer is full or the delay queue holds
 * DELAY_QUEUE_BYTES, and resumed when both have room. A dropping pipe always reads (it buffers
 * nothing), so the pipe holds at most one delay queue and the sink's own buffer.
 */
export class FaultPipe implements IDisposable {
	private forwardedBytes = 0;
	private droppedBytes = 0;
	private silenced = false;
	private severed = false;
	private delayMs = 0;
	private readonly queue: DelayedChunk[] = [];
	private queuedBytes = 0;
	private timer: IDisposable | undefined;
	private waitingForDrain = false;
	/** The source's FIN arrived and has not been passed on yet (queued behind bytes, or during silence). */
	private finPending = false;

	constructor(
		readonly direction: FaultDirection,
		private readonly source: Socket,
		private readonly sink: Socket,
		private readonly owner: PipeOwner,
		private readonly timers: Timers,
	) {
		source.on('data', (chunk: Buffer) => this.onData(chunk));
		source.on('end', () => this.onEnd());
		sink.on('drain', () => {
			this.waitingForDrain = false;
			this.flushDue();
		});
		this.settle();
	}

	/** Bytes written to the sink. */
	get forwarded(): number {
		return this.forwardedBytes;
	}

	/** Bytes read from the source and discarded (silenced, severed, or past a spent budget). */
	get dropped(): number {
		return this.droppedBytes;
	}

	/** Bytes the proxy holds in this direction now: the delay queue and the sink's unsent buffer. */
	get buffered(): number {
		return this.queuedBytes + this.sink.writableLength;
	}

	/** Whether the source is not being read (its sink or the delay queue is full). */
	get isPaused(): boolean {
		return this.source.isPaused();
	}

	/** Whether bytes read now are discarded. */
	get isDropping(): boolean {
		return this.silenced || this.severed;
	}

	/** Every chunk read from now on waits `ms` more before it is written (order kept). */
	setDelay(ms: number): void {
		this.delayMs = ms;
	}

	/**
	 * A black hole in this direction, or its end. Bytes delayed or read meanwhile are lost; a FIN
	 * that came meanwhile passes when it ends (TCP would retransmit it, and the ends would
	 * otherwise wait forever for it).
	 */
	silence(on: boolean): void {
		this.silenced = on;
		if (on) {
			this.dropQueue();
		} else if (this.finPending && this.queue.length === 0 && !this.severed) {
			this.finish();
		}
		this.settle();
	}

	/** Stops carrying this direction for good: everything from now on is dropped, FIN included. */
	sever(): void {
		this.severed = true;
		this.dropQueue();
		this.settle();
	}

	dispose(): void {
		this.severed = true;
		this.dropQueue();
	}

	private onData(chunk: Buffer): void {
		if (this.isDropping) {
			this.droppedBytes += chunk.length;
		} else if (this.delayMs === 0 && this.queue.length === 0) {
			this.forward(chunk);
		} else {
			const last = this.queue.at(-1)?.dueAt ?? 0;
			this.queue.push({ chunk, dueAt: Math.max(this.timers.now() + this.delayMs, last) });
			this.queuedBytes += chunk.length;
			this.settle();
			this.schedule();
		}
	}

	private onEnd(): void {
		this.finPending = true;
		if (!this.isDropping && this.queue.length === 0) {
			this.finish();
		}
	}

	/** Writes `chunk` (or the part of it its budgets allow) to the sink. */
	private forward(chunk: Buffer): void {
		if (this.sink.destroyed) {
			this.droppedBytes += chunk.length;
			this.owner.sinkGone(this.direction);
			return;
		}
		const allowed = this.owner.allowance(this.direction, chunk.length);
		const part = allowed < chunk.length ? chunk.subarray(0, allowed) : chunk;
		this.forwardedBytes += part.length;
		this.droppedBytes += chunk.length - part.length;
		const cut = this.owner.spend(this.direction, part.length);
		if (cut) {
			// At once, without waiting for the far end to take these bytes: a stalled end must not
			// stall a cut, and bytes still in flight are lost on a real cut too.
			this.sink.write(part);
			cut();
		} else if (!this.sink.write(part)) {
			this.waitingForDrain = true;
			this.settle();
		}
	}

	/** Writes every chunk whose delay is over, as far as the sink takes them. */
	private flushDue(): void {
		const now = this.timers.now();
		while (!this.waitingForDrain && !this.isDropping && this.queue[0] && this.queue[0].dueAt <= now) {
			const { chunk } = this.queue.shift()!;
			this.queuedBytes -= chunk.length;
			this.forward(chunk);
		}
		if (this.finPending && this.queue.length === 0 && !this.isDropping) {
			this.finish();
		}
		this.settle();
		this.schedule();
	}

	private schedule(): void {
		const head = this.queue[0];
		if (this.timer || !head || this.waitingForDrain || this.isDropping) {
			return;
		}
		const wait = Math.max(0, Math.ceil(head.dueAt - this.timers.now()));
		this.timer = this.timers.timeout(() => {
			this.timer = undefined;
			this.flushDue();
		}, wait);
	}

	/** Reads the source when there is room for what it sends (always, while dropping). */
	private settle(): void {
		const full = this.waitingForDrain || this.queuedBytes >= DELAY_QUEUE_BYTES;
		if (!this.isDropping && full) {
			this.source.pause();
		} else {
			this.source.resume();
		}
	}

	private finish(): void {
		this.finPending = false;
		if (!this.sink.destroyed && !this.sink.writableEnded) {
			this.sink.end();
		}
	}

	private dropQueue(): void {
		this.droppedBytes += this.queuedBytes;
		this.queue.length = 0;
		this.queuedBytes = 0;
		this.timer?.dispose();
		this.timer = undefined;
	}
}
