import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_DELAY_MS } from '../../../../protocol/constants';
import { LiveTokens, REVOCATION_POLL_MS, type TokenState } from '../../../../server/auth/live-tokens';
import type { Principal } from '../../../../server/handshake/connection-types';
import { createNullLogger } from '../../../../server/shared/log';
import { ManualTimers } from '../../../helpers/manual-timers';

const user = (tokenId: string): Principal => ({
	role: 'user',
	user: { userId: 'u', email: 'u@example.com', tokenId, role: 'client', expiresAt: 0 },
});

/** Live tokens over a fake list of sessions, on a manual clock whose wall clock moves with it. */
function setup(states: Map<string, TokenState> = new Map()) {
	const timers = new ManualTimers();
	const epoch = 1_800_000_000_000;
	const sessions: { principal: Principal; cut?: string }[] = [];
	const live = new LiveTokens({
		timers,
		wallClock: () => epoch + timers.now(),
		log: createNullLogger(),
		lookUp: (id) => Promise.resolve(states.get(id) ?? 'valid'),
	});
	live.attach({
		cut: (matches, reason) => {
			const doomed = sessions.filter((s) => s.cut === undefined && matches(s.principal));
			doomed.forEach((s) => (s.cut = reason));
			return doomed.length;
		},
		count: (matches) => sessions.filter((s) => s.cut === undefined && matches(s.principal)).length,
	});
	return { timers, epoch, sessions, live, states };
}

/** Lets the poll's awaited look-ups run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LiveTokens', () => {
	it("cuts a token's sessions at its expiry, and no one else's", () => {
		const { timers, epoch, sessions, live } = setup();
		sessions.push({ principal: user('a') }, { principal: user('a') }, { principal: user('b') });
		live.add('a', epoch + 5_000);
		live.add('b', epoch + 60_000);
		timers.advance(4_999);
		assert.deepEqual(
			sessions.map((s) => s.cut),
			[undefined, undefined, undefined],
		);
		timers.advance(1);
		assert.deepEqual(
			sessions.map((s) => s.cut),
			['your token expired: sign in again', 'your token expired: sign in again', undefined],
		);
	});

	it('waits past the longest timer for a token that lives longer', () => {
		const { timers, epoch, sessions, live } = setup();
		sessions.push({ principal: user('long') });
		live.add('long', epoch + MAX_TIMER_DELAY_MS + 10_000);
		timers.advance(MAX_TIMER_DELAY_MS);
		assert.equal(sessions[0]!.cut, undefined, 'not cut when the first timer fires');
		timers.advance(10_000);
		assert.equal(sessions[0]!.cut, 'your token expired: sign in again');
	});

	it('cuts within a poll a token revoked elsewhere (another process, the store)', async () => {
		const { timers, epoch, sessions, live, states } = setup();
		sessions.push({ principal: user('a') });
		live.add('a', epoch + 3_600_000);
		states.set('a', 'revoked');
		timers.advance(REVOCATION_POLL_MS);
		await settle();
		assert.equal(sessions[0]!.cut, 'your token was revoked: sign in again');
		assert.equal(live.size, 0);
	});

	it('forgets a token whose sessions are all gone', async () => {
		const { timers, epoch, live } = setup();
		live.add('gone', epoch + 3_600_000);
		timers.advance(REVOCATION_POLL_MS);
		await settle();
		assert.equal(live.size, 0);
	});
});
