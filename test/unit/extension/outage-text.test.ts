import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	describeLostSession,
	describePastOutages,
	describeReconnecting,
	describeReconnectingBriefly,
} from '../../../extension/agent/outage-text';

describe('what the extension says about a drop', () => {
	it('says how long an agent has been reconnecting, and whether its connections wait', () => {
		assert.equal(
			describeReconnecting({
				type: 'reconnecting',
				attempt: 3,
				delayMs: 5_000,
				lastError: 'read ECONNRESET',
				resuming: true,
				outageMs: 12_400,
			}),
			'Reconnecting for 12 s; connections are held (attempt 3 in 5 s): read ECONNRESET',
		);
		assert.equal(
			describeReconnecting({ type: 'reconnecting', attempt: 1, delayMs: 0, resuming: true, outageMs: 400 }),
			'Reconnecting; connections are held (attempt 1)',
			'no count in the first second',
		);
		assert.equal(
			describeReconnecting({
				type: 'reconnecting',
				attempt: 9,
				delayMs: 30_000,
				resuming: false,
				outageMs: 6 * 60_000,
			}),
			'Reconnecting for 6 min; open connections were lost (attempt 9 in 30 s)',
		);
	});

	it('keeps the plain words where nothing is known of a session (an ssh tunnel being made again)', () => {
		assert.equal(
			describeReconnecting({ type: 'reconnecting', attempt: 2, delayMs: 5_000, lastError: 'ssh exited' }),
			'Connection lost; reconnecting in 5 s (attempt 2): ssh exited',
		);
		assert.equal(
			describeReconnectingBriefly({ type: 'reconnecting', attempt: 2, delayMs: 5_000 }),
			'connection lost, trying again in 5 s (attempt 2)',
		);
	});

	it('says it briefly for the status bar and the log', () => {
		assert.equal(
			describeReconnectingBriefly({ type: 'reconnecting', attempt: 1, delayMs: 0, resuming: true }),
			'reconnecting (connections held), trying again now (attempt 1)',
		);
		assert.equal(
			describeReconnectingBriefly({ type: 'reconnecting', attempt: 4, delayMs: 10_000, resuming: false }),
			'reconnecting (open connections were lost), trying again in 10 s (attempt 4)',
		);
	});

	it('says how the last drop ended, and how many there were', () => {
		assert.equal(
			describePastOutages({ drops: 1, last: { end: 'resumed', durationMs: 3_200 } }),
			'resumed after 3 s, no connection lost',
		);
		assert.equal(
			describePastOutages({ drops: 1, last: { end: 'resumed', durationMs: 80 } }),
			'resumed in under a second, no connection lost',
		);
		assert.equal(
			describePastOutages({ drops: 2, last: { end: 'resumed', durationMs: 3_000 } }),
			'resumed after 3 s, no connection lost (2 drops)',
		);
		assert.equal(
			describePastOutages({ drops: 3, last: { end: 'lost', durationMs: 40_000 } }),
			'reconnected after 40 s on a new session; connections were lost (3 drops)',
		);
	});

	it('tells of a lost session once, with the reason its connections were given', () => {
		assert.equal(
			describeLostSession('the agent at ws://vm:8765', 'the agent restarted; connections were lost'),
			'Reconnected to the agent at ws://vm:8765, but the session could not be resumed: the agent restarted; connections were lost.',
		);
	});
});
