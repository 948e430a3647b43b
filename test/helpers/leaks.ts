import { afterEach } from 'node:test';
import type { IDisposable } from '../../protocol/lifecycle';
import { ManualTimers } from './manual-timers';

/** What a test asks `ensureNoLeaks` to watch. */
export interface LeakCheck {
	/** A clock for this test: it must have nothing scheduled when the test ends. */
	timers(): ManualTimers;
	/** Marks `item` as something the test (or its owner) must have disposed by its end; returns it. */
	track<T extends IDisposable>(item: T): T;
	/** What would count as a leak if the test ended now (the after-each check, for its own tests). */
	leaks(): string[];
}

/**
 * Call at the top of a `describe`: after each of its tests, the test fails if a clock it got from
 * `timers()` still has timers scheduled, or something it `track`ed was never disposed. In the
 * spirit of VS Code's ensureNoDisposablesAreLeakedInTestSuite, but without a global tracker in
 * the product code: each test says what it created.
 */
export function ensureNoLeaks(): LeakCheck {
	let clocks: ManualTimers[] = [];
	let tracked: { readonly name: string; disposed: boolean }[] = [];
	const leaks = (): string[] => [
		...clocks.flatMap((clock, i) =>
			clock.pending > 0 ? [`clock #${i + 1} has ${clock.pending} timer(s) still scheduled`] : [],
		),
		...tracked.filter((t) => !t.disposed).map((t) => `${t.name} was not disposed`),
	];
	afterEach(() => {
		const found = leaks();
		clocks = [];
		tracked = [];
		if (found.length > 0) {
			throw new Error(`leaked: ${found.join('; ')}`);
		}
	});
	return {
		timers: () => {
			const clock = new ManualTimers();
			clocks.push(clock);
			return clock;
		},
		track: (item) => {
			const record = { name: item.constructor.name || 'a disposable', disposed: false };
			tracked.push(record);
			const dispose = item.dispose.bind(item);
			item.dispose = () => {
				record.disposed = true;
				dispose();
			};
			return item;
		},
		leaks,
	};
}
