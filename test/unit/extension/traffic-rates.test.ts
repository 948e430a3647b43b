import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RATE_IDLE_MS, TrafficRates } from '../../../extension/ports/traffic-rates';

const MB = 1024 * 1024;

describe('TrafficRates', () => {
	it('measures a steady flow announced once a second', () => {
		const rates = new TrafficRates();
		rates.observe('f', 0, 0, 0);
		// The flow starts at 10 s; the first announcement comes 1 s later, then one a second.
		for (let s = 1; s <= 6; s++) {
			rates.observe('f', 10_000 + s * 1000, s * MB, (s * MB) / 4);
			const rate = rates.rate('f', 10_000 + s * 1000);
			assert.equal(Math.round(rate.rateIn), MB, `in, after ${s} s`);
			assert.equal(Math.round(rate.rateOut), MB / 4, `out, after ${s} s`);
		}
	});

	it('falls to 0 once the totals stop moving, and starts at 0', () => {
		const rates = new TrafficRates();
		assert.deepEqual(rates.rate('f', 0), { rateIn: 0, rateOut: 0 });
		rates.observe('f', 0, 0, 0);
		rates.observe('f', 1000, 1000, 0);
		assert.equal(rates.rate('f', 1000 + RATE_IDLE_MS).rateIn, 1000);
		assert.deepEqual(rates.rate('f', 1001 + RATE_IDLE_MS), { rateIn: 0, rateOut: 0 });
	});

	it('samples only changes, and forgets forwards that are gone', () => {
		const rates = new TrafficRates();
		rates.observe('f', 0, 0, 0);
		rates.observe('f', 1000, 500, 0);
		rates.observe('f', 1500, 500, 0);
		assert.equal(rates.rate('f', 1500).rateIn, 500, 'the unchanged totals at 1.5 s made no sample');
		rates.retain(new Set(['other']));
		assert.equal(rates.rate('f', 1500).rateIn, 0);
	});
});
