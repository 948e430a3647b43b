import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogBudget } from '../../../server/shared/log-budget';
import { ManualTimers } from '../../helpers/manual-timers';

function setup() {
	const timers = new ManualTimers();
	const reports: number[] = [];
	const budget = new LogBudget({ lines: 3, windowMs: 1_000, timers, onSuppressed: (n) => reports.push(n) });
	const take = (times: number): number => {
		let allowed = 0;
		for (let i = 0; i < times; i++) {
			allowed += budget.take() ? 1 : 0;
		}
		return allowed;
	};
	return { timers, budget, reports, take };
}

describe('LogBudget', () => {
	it('allows `lines` lines per window and reports what it held back once, at the window’s end', () => {
		const { timers, reports, take } = setup();
		assert.equal(take(100), 3);
		assert.deepEqual(reports, []);
		timers.advance(999);
		assert.deepEqual(reports, []);
		timers.advance(1);
		assert.deepEqual(reports, [97]);
		assert.equal(take(5), 3, 'a new window');
	});

	it('reports nothing when nothing was held back', () => {
		const { timers, reports, take } = setup();
		assert.equal(take(3), 3);
		timers.advance(5_000);
		assert.deepEqual(reports, []);
		assert.equal(take(3), 3);
	});

	it('bounds a flood that never stops: `lines` lines plus one summary per window', () => {
		const { timers, reports, take } = setup();
		let allowed = 0;
		for (let ms = 0; ms < 10_000; ms += 10) {
			allowed += take(10);
			timers.advance(10);
		}
		timers.advance(1_000); // the last window's summary
		assert.ok(allowed <= 3 * 11, `${allowed} lines in 10 windows`);
		assert.ok(reports.length >= 9 && reports.length <= 11, `${reports.length} summaries`);
		assert.equal(allowed + sum(reports), 10_000, 'every line is logged or counted in a summary');
	});

	it('cancels its pending report when disposed', () => {
		const { timers, budget, reports, take } = setup();
		take(10);
		assert.equal(timers.pending, 1);
		budget.dispose();
		assert.equal(timers.pending, 0);
		timers.advance(2_000);
		assert.deepEqual(reports, []);
	});
});

function sum(values: number[]): number {
	return values.reduce((a, b) => a + b, 0);
}
