import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_DELAY_MS } from '../../../protocol/constants';
import { checkTimerDelay } from '../../../protocol/timers';

describe('checkTimerDelay', () => {
	it('passes every duration a timer can hold', () => {
		assert.equal(checkTimerDelay('grace', 0), 0);
		assert.equal(checkTimerDelay('grace', MAX_TIMER_DELAY_MS), 2_147_483_647);
	});

	it('refuses what setTimeout would turn into 1 ms, naming the maximum', () => {
		for (const ms of [MAX_TIMER_DELAY_MS + 1, 2_147_484_000, Infinity, -1, 1.5, NaN]) {
			assert.throws(
				() => checkTimerDelay('reconnectionGraceMs', ms),
				(error: Error & { code?: string }) =>
					error.code === 'BERTH_ERR_USAGE' &&
					/^reconnectionGraceMs .* ms is not a duration a timer can hold: use 0 to 2147483647 ms/.test(
						error.message,
					),
				String(ms),
			);
		}
	});
});
