import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeAgentState, forwardProblem } from '../../../extension/ports/row-problem';

describe('forwardProblem', () => {
	const counters = { open: 0, total: 0, bytesIn: 0, bytesOut: 0 };
	const connected = { isLocal: false, url: 'ws://h:1', state: { type: 'connected' as const } };
	const active = { state: 'active' as const, targetPort: 3000, counters };
	const failedOnce = { ...active, counters: { ...counters, total: 1, lastError: 'ECONNRESET' } };

	it('puts a failed forward first, then an absent agent, then a missing listener', () => {
		assert.equal(
			forwardProblem(connected, { ...active, state: 'failed', error: 'listen EACCES' }, false)?.kind,
			'forwardFailed',
		);
		assert.deepEqual(
			forwardProblem(
				{ ...connected, state: { type: 'reconnecting', attempt: 1, delayMs: 1000 } },
				active,
				false,
			),
			{ kind: 'agentOffline', message: 'Waiting for h:1 to reconnect' },
		);
		assert.deepEqual(
			forwardProblem(
				{ ...connected, state: { type: 'reconnecting', attempt: 1, delayMs: 0, resuming: true } },
				failedOnce,
				false,
			),
			{ kind: 'reconnecting', message: 'Reconnecting to h:1; connections are held' },
			'an agent that holds the session: the connections wait, nothing failed',
		);
		assert.deepEqual(
			forwardProblem(
				{ ...connected, state: { type: 'reconnecting', attempt: 2, delayMs: 5000, resuming: false } },
				active,
				false,
			),
			{ kind: 'agentOffline', message: 'Waiting for h:1 to reconnect' },
		);
		assert.deepEqual(forwardProblem({ ...connected, isLocal: true }, active, false), {
			kind: 'noListener',
			message: 'Nothing is listening on 3000 on this machine',
		});
	});

	it('shows a failed connection only where the agent cannot tell whether anything listens', () => {
		assert.deepEqual(forwardProblem(connected, failedOnce, undefined), {
			kind: 'connectionFailed',
			message: 'A connection failed: ECONNRESET',
		});
		assert.equal(forwardProblem(connected, failedOnce, true), undefined, 'a listener is there now');
		assert.equal(forwardProblem(connected, active, undefined), undefined);
	});
});

describe('describeAgentState', () => {
	it('says how the connection stands', () => {
		assert.equal(describeAgentState({ type: 'connecting' }, 'berth'), 'Connecting…');
		assert.equal(
			describeAgentState({ type: 'connected', host: 'vm', version: '1.2.3' }, 'berth'),
			'Connected to vm (Berth 1.2.3)',
		);
		assert.match(describeAgentState({ type: 'connected' }, 'vscode'), /cannot be verified/);
		assert.equal(
			describeAgentState(
				{ type: 'reconnecting', attempt: 2, delayMs: 5000, lastError: 'ECONNREFUSED' },
				'berth',
			),
			'Connection lost; reconnecting in 5 s (attempt 2): ECONNREFUSED',
		);
		assert.equal(
			describeAgentState({ type: 'failed', message: 'auth mismatch' }, 'berth'),
			'Disconnected: auth mismatch',
		);
	});

	it('counts an outage while the agent holds the session, and says how the last one ended', () => {
		assert.equal(
			describeAgentState(
				{ type: 'reconnecting', attempt: 1, delayMs: 0, resuming: true, outageMs: 2_000 },
				'berth',
			),
			'Reconnecting for 2 s; connections are held (attempt 1)',
		);
		assert.equal(
			describeAgentState(
				{
					type: 'connected',
					host: 'vm',
					version: '1.2.3',
					drops: { drops: 2, last: { end: 'resumed', durationMs: 3_000 } },
				},
				'berth',
			),
			'Connected to vm (Berth 1.2.3); resumed after 3 s, no connection lost (2 drops)',
		);
	});

	it('asks to sign in again, not to reconnect, once the token was revoked or expired', () => {
		const failed = {
			type: 'failed',
			message: 'Connection error: … get a new token (berth login …)',
		} as const;
		assert.equal(
			describeAgentState({ ...failed, tokenProblem: 'revoked' }, 'berth'),
			'Token revoked: sign in again',
		);
		assert.equal(
			describeAgentState({ ...failed, tokenProblem: 'expired' }, 'berth'),
			'Token expired: sign in again',
		);
	});
});
