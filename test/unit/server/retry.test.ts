import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import {
	isPermanentError,
	reconnectDelayMs,
	retry,
	type RetryOptions,
	type RetryWait,
} from '../../../server/client/retry';
import { ensureNoLeaks } from '../../helpers/leaks';
import type { ManualTimers } from '../../helpers/manual-timers';

describe('reconnection schedule', () => {
	it('waits 0, 5, 5, 10, 10, 10, 10, 10, 30 s, then 30 s each time (VS Code’s)', () => {
		const delays = Array.from({ length: 11 }, (_, i) => reconnectDelayMs(i + 1) / 1000);
		assert.deepEqual(delays, [0, 5, 5, 10, 10, 10, 10, 10, 30, 30, 30]);
	});
});

/** Moves the clock, then lets the loop run what falls due (it continues on a promise). */
async function advance(timers: ManualTimers, ms: number): Promise<void> {
	timers.advance(ms);
	await nextTurn();
}

/** Attempts the test settles one by one, and the waits the loop reported. */
function scripted(timers: ManualTimers, overrides: Partial<RetryOptions<string>> = {}) {
	const attempts: { resolve(value: string): void; reject(error: unknown): void }[] = [];
	const waits: RetryWait[] = [];
	const discarded: string[] = [];
	const run = retry<string>({
		timers,
		attempt: () => new Promise((resolve, reject) => attempts.push({ resolve, reject })),
		schedule: reconnectDelayMs,
		isPermanent: isPermanentError,
		onWait: (wait) => waits.push(wait),
		discard: (value) => discarded.push(value),
		firstError: 'the session ended',
		...overrides,
	});
	return { run, attempts, waits, discarded };
}

describe('retry', () => {
	const leaks = ensureNoLeaks();

	it('tryNow ends the current wait: the next attempt starts at once, and the loop goes on', async () => {
		const timers = leaks.timers();
		const { run, attempts, waits } = scripted(timers);
		await advance(timers, 0);
		attempts[0]!.reject(new BerthError('BERTH_ERR_CONNECT', 'connect ECONNREFUSED'));
		await nextTurn();
		assert.equal(waits[1]!.delayMs, 5_000);
		run.tryNow();
		await nextTurn();
		assert.equal(attempts.length, 2, 'the second attempt started without waiting 5 s');
		attempts[1]!.resolve('session');
		assert.deepEqual(await run.outcome, { type: 'succeeded', value: 'session' });
	});

	it('waits what the schedule says before each attempt, reporting why the last one failed', async () => {
		const timers = leaks.timers();
		const { run, attempts, waits } = scripted(timers);
		assert.deepEqual(waits, [{ attempt: 1, delayMs: 0, lastError: 'the session ended' }]);
		assert.equal(attempts.length, 0, 'no attempt before the wait is over');
		await advance(timers, 0);
		assert.equal(attempts.length, 1);
		attempts[0]!.reject(new BerthError('BERTH_ERR_CONNECT', 'connect ECONNREFUSED'));
		await nextTurn();
		assert.deepEqual(waits[1], { attempt: 2, delayMs: 5_000, lastError: 'connect ECONNREFUSED' });
		await advance(timers, 4_999);
		assert.equal(attempts.length, 1, 'still waiting');
		await advance(timers, 1);
		assert.equal(attempts.length, 2);
		attempts[1]!.resolve('session #2');
		assert.deepEqual(await run.outcome, { type: 'succeeded', value: 'session #2' });
		assert.equal(waits.length, 2);
	});

	it('makes the first attempt once the caller has run, with no timer (a 0 ms timer waits 1 ms or more)', async () => {
		const timers = leaks.timers();
		const { run, attempts } = scripted(timers);
		assert.equal(attempts.length, 0, 'not inside the call that started the loop');
		await Promise.resolve();
		assert.equal(attempts.length, 1, 'attempted without the clock moving');
		assert.equal(timers.pending, 0, 'no timer was set for it');
		attempts[0]!.resolve('session resumed');
		assert.deepEqual(await run.outcome, { type: 'succeeded', value: 'session resumed' });
	});

	it('waits on a timer for a later wait of 0, so a schedule of zeros lets I/O in between attempts', async () => {
		const timers = leaks.timers();
		const { run, attempts } = scripted(timers, { schedule: () => 0 });
		await Promise.resolve();
		attempts[0]!.reject(new Error('down'));
		await nextTurn();
		assert.equal(attempts.length, 1);
		assert.equal(timers.pending, 1, 'the second attempt waits for its timer');
		await advance(timers, 0);
		assert.equal(attempts.length, 2);
		attempts[1]!.resolve('session resumed');
		assert.deepEqual(await run.outcome, { type: 'succeeded', value: 'session resumed' });
	});

	it('stops at a permanent failure, with that error', async () => {
		const timers = leaks.timers();
		const { run, attempts, waits } = scripted(timers);
		await advance(timers, 0);
		const refusal = new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'refused', 'Unauthorized client refused');
		attempts[0]!.reject(refusal);
		assert.deepEqual(await run.outcome, { type: 'refused', error: refusal });
		assert.equal(waits.length, 1, 'no wait after a permanent failure');
	});

	it('ends as exhausted when the schedule gives up, with the last error', async () => {
		const timers = leaks.timers();
		const { run, attempts } = scripted(timers, { schedule: (n) => (n <= 2 ? 1_000 : undefined) });
		await advance(timers, 1_000);
		attempts[0]!.reject(new Error('first'));
		await nextTurn();
		await advance(timers, 1_000);
		attempts[1]!.reject(new Error('second'));
		assert.deepEqual(await run.outcome, { type: 'exhausted', lastError: 'second' });
		assert.equal(attempts.length, 2);
	});

	it('ends the wait at once when disposed, and never attempts', async () => {
		const timers = leaks.timers();
		const { run, attempts } = scripted(timers);
		await advance(timers, 0);
		attempts[0]!.reject(new Error('down'));
		await nextTurn();
		assert.equal(timers.pending, 1, 'waiting 5 s');
		run.dispose();
		assert.deepEqual(await run.outcome, { type: 'cancelled' });
		assert.equal(timers.pending, 0);
		assert.equal(attempts.length, 1);
	});

	it('discards what an attempt brings after the run was disposed', async () => {
		const timers = leaks.timers();
		const { run, attempts, discarded } = scripted(timers);
		await advance(timers, 0);
		run.dispose();
		attempts[0]!.resolve('late session');
		assert.deepEqual(await run.outcome, { type: 'cancelled' });
		assert.deepEqual(discarded, ['late session']);
	});
});
