import { toDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

/** A clock that moves only when the test says so: `advance(ms)` runs what falls due, in order. */
export class ManualTimers implements Timers {
	private time = 0;
	private nextId = 1;
	private readonly tasks = new Map<number, { at: number; fn: () => void; every?: number }>();

	now(): number {
		return this.time;
	}

	timeout(fn: () => void, ms: number) {
		const id = this.nextId++;
		this.tasks.set(id, { at: this.time + ms, fn });
		return toDisposable(() => this.tasks.delete(id));
	}

	interval(fn: () => void, ms: number) {
		const id = this.nextId++;
		this.tasks.set(id, { at: this.time + ms, fn, every: ms });
		return toDisposable(() => this.tasks.delete(id));
	}

	/** Timers still scheduled (for leak checks). */
	get pending(): number {
		return this.tasks.size;
	}

	advance(ms: number): void {
		const end = this.time + ms;
		for (;;) {
			let nextId: number | undefined;
			let nextAt = Infinity;
			for (const [id, task] of this.tasks) {
				if (task.at <= end && task.at < nextAt) {
					nextAt = task.at;
					nextId = id;
				}
			}
			if (nextId === undefined) {
				break;
			}
			const task = this.tasks.get(nextId)!;
			this.time = task.at;
			if (task.every) {
				task.at += task.every;
			} else {
				this.tasks.delete(nextId);
			}
			task.fn();
		}
		this.time = end;
	}
}
