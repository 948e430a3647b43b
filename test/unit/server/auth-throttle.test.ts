import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	AUTH_FAILURE_BURST,
	AUTH_FAILURE_REFILL_MS,
	AuthThrottle,
	MAX_THROTTLED_SOURCES,
	sourceKey,
} from '../../../server/auth-throttle';
import { ManualTimers } from '../../helpers/manual-timers';

function failTimes(throttle: AuthThrottle, address: string, times: number): number {
	let retry = 0;
	for (let i = 0; i < times; i++) {
		retry = throttle.forSource(address).recordFailure();
	}
	return retry;
}

describe('AuthThrottle', () => {
	it('lets a source present a burst of wrong tokens, then holds it off', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers });
		const source = throttle.forSource('192.0.2.1');
		assert.equal(failTimes(throttle, '192.0.2.1', AUTH_FAILURE_BURST - 1), 0, 'still within the burst');
		assert.equal(source.retryAfterMs(), 0);
		assert.equal(source.recordFailure(), AUTH_FAILURE_REFILL_MS, 'the last of the burst starts the wait');
		assert.equal(source.retryAfterMs(), AUTH_FAILURE_REFILL_MS);
	});

	it('gives back one attempt per refill interval', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers });
		const source = throttle.forSource('192.0.2.1');
		failTimes(throttle, '192.0.2.1', AUTH_FAILURE_BURST);
		timers.advance(AUTH_FAILURE_REFILL_MS - 1);
		assert.equal(source.retryAfterMs(), 1);
		timers.advance(1);
		assert.equal(source.retryAfterMs(), 0, 'one attempt again');
		assert.equal(source.recordFailure(), AUTH_FAILURE_REFILL_MS, 'and it is used up at once');
	});

	it('leaves every other source alone', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers });
		failTimes(throttle, '192.0.2.1', AUTH_FAILURE_BURST * 3);
		assert.ok(throttle.forSource('192.0.2.1').retryAfterMs() > 0);
		assert.equal(throttle.forSource('192.0.2.2').retryAfterMs(), 0);
		assert.equal(throttle.forSource('2001:db8::1').retryAfterMs(), 0);
	});

	it('forgets a source whose bucket is full again', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers });
		failTimes(throttle, '192.0.2.1', 3);
		assert.equal(throttle.size, 1);
		timers.advance(3 * AUTH_FAILURE_REFILL_MS);
		assert.equal(throttle.forSource('192.0.2.1').retryAfterMs(), 0);
		assert.equal(throttle.size, 0);
	});

	it('remembers at most maxSources sources, forgetting the least recently failed', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers, maxSources: 3 });
		failTimes(throttle, '192.0.2.1', AUTH_FAILURE_BURST);
		failTimes(throttle, '192.0.2.2', AUTH_FAILURE_BURST);
		failTimes(throttle, '192.0.2.3', AUTH_FAILURE_BURST);
		failTimes(throttle, '192.0.2.1', 1); // 192.0.2.1 failed again: now 192.0.2.2 is the oldest
		failTimes(throttle, '192.0.2.4', 1);
		assert.equal(throttle.size, 3);
		assert.equal(throttle.forSource('192.0.2.2').retryAfterMs(), 0, 'forgotten');
		assert.ok(throttle.forSource('192.0.2.1').retryAfterMs() > 0);
		assert.ok(throttle.forSource('192.0.2.3').retryAfterMs() > 0);
	});

	it('stays bounded by default under a flood of distinct sources', () => {
		const throttle = new AuthThrottle({ timers: new ManualTimers() });
		for (let i = 0; i < MAX_THROTTLED_SOURCES + 1_000; i++) {
			throttle.forSource(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).recordFailure();
		}
		assert.equal(throttle.size, MAX_THROTTLED_SOURCES);
	});

	it('counts an IPv6 /64 as one source, and an IPv4-mapped address as its IPv4', () => {
		const timers = new ManualTimers();
		const throttle = new AuthThrottle({ timers });
		for (let i = 1; i <= AUTH_FAILURE_BURST; i++) {
			throttle.forSource(`2001:db8:1:2::${i.toString(16)}`).recordFailure();
		}
		assert.ok(throttle.forSource('2001:db8:1:2:ffff::1').retryAfterMs() > 0, 'same /64');
		assert.equal(throttle.forSource('2001:db8:1:3::1').retryAfterMs(), 0, 'another /64');
		failTimes(throttle, '::ffff:192.0.2.9', AUTH_FAILURE_BURST);
		assert.ok(throttle.forSource('192.0.2.9').retryAfterMs() > 0);
	});
});

describe('sourceKey', () => {
	const rows: [string, string][] = [
		['192.0.2.1', '192.0.2.1'],
		['::ffff:192.0.2.1', '192.0.2.1'],
		['::FFFF:192.0.2.1', '192.0.2.1'],
		['2001:db8:0:1::5', '2001:db8:0:1::/64'],
		['2001:0db8:0000:0001:0000:0000:0000:0005', '2001:db8:0:1::/64'],
		['fe80::1%eth0', 'fe80:0:0:0::/64'],
		['::1', '0:0:0:0::/64'],
		['::', '0:0:0:0::/64'],
		['1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7::8'], // '::' for no group: not an address, its own key
		['not an address', 'not an address'],
		['', ''],
	];
	for (const [address, key] of rows) {
		it(`${JSON.stringify(address)} → ${JSON.stringify(key)}`, () => assert.equal(sourceKey(address), key));
	}
});
