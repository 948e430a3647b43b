import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	DEVICE_CODE_TTL_MS,
	DEVICE_POLL_INTERVAL_MS,
	DEVICE_POLL_TOLERANCE_MS,
	DeviceCodes,
	REMEMBER_AFTER_EXPIRY_MS,
} from '../../../../server/http/web/device-codes';
import { ensureNoLeaks } from '../../../helpers/leaks';

const ALICE = { email: 'alice@example.com', userId: 'user-alice' };

describe('DeviceCodes', () => {
	const leaks = ensureNoLeaks();

	function setup(options: { max?: number; codes?: string[] } = {}) {
		const timers = leaks.timers();
		const codes = options.codes;
		const devices = leaks.track(
			new DeviceCodes({
				timers,
				...(options.max !== undefined ? { max: options.max } : {}),
				...(codes ? { newUserCode: () => codes.shift()! } : {}),
			}),
		);
		return { timers, devices };
	}

	it('gives a device a long random device code, a user code, 600 s and 5 s, and keeps it pending', () => {
		const { devices } = setup();
		const code = devices.create('laptop');
		assert.match(code.deviceCode, /^[A-Za-z0-9_-]{43}$/);
		assert.match(code.userCode, /^[A-Z2-9]{3}-[A-Z2-9]{3}$/);
		assert.equal(code.expiresInS, 600);
		assert.equal(code.intervalS, 5);
		assert.notEqual(devices.create('laptop').deviceCode, code.deviceCode);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'pending' });
		assert.equal(devices.pending(code.userCode)?.sessionName, 'laptop');
		devices.dispose();
	});

	it('completes an approved code once, for the approving user; a second poll is invalid', () => {
		const { devices, timers } = setup();
		const code = devices.create('laptop');
		assert.ok(devices.approve(code.userCode, ALICE));
		assert.deepEqual(devices.poll(code.deviceCode), {
			status: 'complete',
			approval: ALICE,
			sessionName: 'laptop',
		});
		timers.advance(DEVICE_POLL_INTERVAL_MS);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'invalid' });
		assert.equal(devices.size, 0, 'a used code is forgotten at once');
		assert.equal(timers.pending, 0, 'and its timer with it');
		devices.dispose();
	});

	it('answers a code that was approved once: its user code cannot be approved or denied again', () => {
		const { devices } = setup();
		const code = devices.create('laptop');
		assert.ok(devices.approve(code.userCode, ALICE));
		assert.equal(devices.pending(code.userCode), undefined);
		assert.equal(devices.approve(code.userCode, { email: 'mallory@example.com', userId: 'm' }), false);
		assert.equal(devices.deny(code.userCode), false);
		const poll = devices.poll(code.deviceCode);
		assert.equal(poll.status === 'complete' && poll.approval.email, 'alice@example.com');
		devices.dispose();
	});

	it('answers denied to a denied code, on every poll, and never completes it', () => {
		const { devices, timers } = setup();
		const code = devices.create('laptop');
		assert.ok(devices.deny(code.userCode));
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'denied' });
		timers.advance(DEVICE_POLL_INTERVAL_MS);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'denied' });
		assert.equal(devices.approve(code.userCode, ALICE), false);
		devices.dispose();
	});

	it('says slow_down to a poll sooner than the interval after the previous one (with a little tolerance)', () => {
		const { devices, timers } = setup();
		const code = devices.create('laptop');
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'pending' });
		timers.advance(1_000);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'slow_down' });
		// Counted from the last poll, the early one included: hammering never gets through.
		timers.advance(DEVICE_POLL_INTERVAL_MS - 1_000);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'slow_down' });
		timers.advance(DEVICE_POLL_INTERVAL_MS - DEVICE_POLL_TOLERANCE_MS);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'pending' });
		// Even an approved code is not handed over to a poll that comes too soon.
		devices.approve(code.userCode, ALICE);
		timers.advance(10);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'slow_down' });
		timers.advance(DEVICE_POLL_INTERVAL_MS);
		assert.equal(devices.poll(code.deviceCode).status, 'complete');
		devices.dispose();
	});

	it('expires a pending code after 600 s: polls say expired, the page no longer finds it, then it is forgotten', () => {
		const { devices, timers } = setup();
		const code = devices.create('laptop');
		timers.advance(DEVICE_CODE_TTL_MS - 1);
		assert.ok(devices.pending(code.userCode));
		timers.advance(1);
		assert.equal(devices.pending(code.userCode), undefined);
		assert.equal(devices.approve(code.userCode, ALICE), false, 'too late to approve');
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'expired' });
		timers.advance(REMEMBER_AFTER_EXPIRY_MS);
		assert.deepEqual(devices.poll(code.deviceCode), { status: 'invalid' });
		assert.equal(devices.size, 0);
		devices.dispose();
	});

	it('hands over a code approved in time even when the device polls after the expiry', () => {
		const { devices, timers } = setup();
		const code = devices.create('laptop');
		timers.advance(DEVICE_CODE_TTL_MS - 1);
		assert.ok(devices.approve(code.userCode, ALICE));
		timers.advance(DEVICE_POLL_INTERVAL_MS);
		assert.equal(devices.poll(code.deviceCode).status, 'complete');
		devices.dispose();
	});

	it('answers invalid to a device code it never issued', () => {
		const { devices } = setup();
		devices.create('laptop');
		assert.deepEqual(devices.poll('x'.repeat(43)), { status: 'invalid' });
		assert.equal(devices.pending('ABC-234'), undefined);
		devices.dispose();
	});

	it('keeps at most max codes, forgetting the oldest (its timer too)', () => {
		const { devices, timers } = setup({ max: 3 });
		const first = devices.create('one');
		const others = [devices.create('two'), devices.create('three'), devices.create('four')];
		assert.equal(devices.size, 3);
		assert.equal(timers.pending, 3);
		assert.deepEqual(devices.poll(first.deviceCode), { status: 'invalid' });
		assert.equal(devices.pending(first.userCode), undefined);
		for (const code of others) {
			assert.deepEqual(devices.poll(code.deviceCode), { status: 'pending' });
		}
		devices.dispose();
	});

	it('never gives two waiting requests the same user code', () => {
		const { devices } = setup({ codes: ['AAA-222', 'AAA-222', 'BBB-333'] });
		const first = devices.create('one');
		const second = devices.create('two');
		assert.equal(first.userCode, 'AAA-222');
		assert.equal(second.userCode, 'BBB-333');
		assert.equal(devices.pending('AAA-222')?.sessionName, 'one');
		devices.dispose();
	});

	it('cancels every timer on dispose', () => {
		const { devices, timers } = setup();
		devices.create('one');
		devices.create('two');
		devices.dispose();
		assert.equal(timers.pending, 0);
		assert.equal(devices.size, 0);
	});
});
