import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isForwardInfo, type ForwardInfo } from '../../../protocol/rpc';

const VALID: ForwardInfo = {
	id: 'f1',
	direction: 'remote',
	bindHost: '127.0.0.1',
	bindPort: 8080,
	targetHost: 'localhost',
	targetPort: 3000,
	state: 'active',
	counters: { open: 1, total: 4, bytesIn: 10, bytesOut: 20 },
};

describe('isForwardInfo', () => {
	it('accepts a forward as the agent sends it, with or without the optional texts', () => {
		assert.equal(isForwardInfo(VALID), true);
		assert.equal(
			isForwardInfo({
				...VALID,
				state: 'failed',
				error: 'listen EADDRINUSE',
				counters: { ...VALID.counters, lastError: 'connect ECONNREFUSED' },
			}),
			true,
		);
	});

	const broken: [string, unknown][] = [
		['not an object', 'f1'],
		['an array', [VALID]],
		['no id', { ...VALID, id: undefined }],
		['an unknown direction', { ...VALID, direction: 'dynamic' }],
		['a port out of range', { ...VALID, bindPort: 65_536 }],
		['a fractional port', { ...VALID, targetPort: 80.5 }],
		['a host of 256 characters', { ...VALID, targetHost: 'a'.repeat(256) }],
		['an unknown state', { ...VALID, state: 'paused' }],
		['no counters', { ...VALID, counters: undefined }],
		['a negative counter', { ...VALID, counters: { ...VALID.counters, open: -1 } }],
		['a counter as text', { ...VALID, counters: { ...VALID.counters, bytesIn: '10' } }],
		['an error that is not text', { ...VALID, error: { message: 'x' } }],
	];
	for (const [what, value] of broken) {
		it(`refuses ${what}`, () => {
			assert.equal(isForwardInfo(value), false);
		});
	}
});
