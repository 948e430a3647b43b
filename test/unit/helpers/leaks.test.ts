import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisposableStore } from '../../../protocol/lifecycle';
import { ensureNoLeaks } from '../../helpers/leaks';

describe('ensureNoLeaks', () => {
	const check = ensureNoLeaks();

	it('names a clock with timers still scheduled, until they run or are cancelled', () => {
		const timers = check.timers();
		const timer = timers.timeout(() => undefined, 1_000);
		timers.interval(() => undefined, 10).dispose();
		assert.deepEqual(check.leaks(), ['clock #1 has 1 timer(s) still scheduled']);
		timer.dispose();
		assert.deepEqual(check.leaks(), []);
	});

	it('names what was tracked and not disposed, even when its owner disposes it', () => {
		const owner = new DisposableStore();
		const store = owner.add(check.track(new DisposableStore()));
		assert.deepEqual(check.leaks(), ['DisposableStore was not disposed']);
		owner.dispose();
		assert.equal(store.isDisposed, true);
		assert.deepEqual(check.leaks(), []);
	});
});
