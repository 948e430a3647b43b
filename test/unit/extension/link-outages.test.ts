import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkOutages } from '../../../extension/agent/link-outages';
import type { ServerInfo } from '../../../protocol/rpc';
import { UNREACHABLE_WHILE_RECONNECTING, type LinkState } from '../../../server/client/index';
import { BerthError } from '../../../protocol/errors';

const info = { host: 'vm', version: '1.0.0', clients: 1 } as unknown as ServerInfo;
const CONNECTED: LinkState = { type: 'connected', info, renewed: false, sameNetwork: false };
const RESUMED: LinkState = { ...CONNECTED, resumed: true };
const RENEWED: LinkState = { ...CONNECTED, renewed: true };
const reconnecting = (attempt: number, resuming = true): LinkState => ({
	type: 'reconnecting',
	resuming,
	attempt,
	delayMs: attempt === 1 ? 0 : 5_000,
});

/** A LinkOutages on a clock the test moves. */
function setup() {
	const clock = { now: 1_000 };
	return { clock, outages: new LinkOutages(() => clock.now) };
}

describe('LinkOutages', () => {
	it('counts one outage from its first reconnecting to the next connected, however many attempts', () => {
		const { clock, outages } = setup();
		assert.equal(outages.observe(CONNECTED), undefined, 'the first connection ends no outage');
		assert.equal(outages.outageMs, undefined);
		outages.observe(reconnecting(1));
		clock.now += 2_000;
		outages.observe(reconnecting(2));
		assert.equal(outages.outageMs, 2_000);
		clock.now += 5_000;
		outages.observe(reconnecting(3));
		assert.equal(outages.outageMs, 7_000, 'counted from the first reconnecting');
		clock.now += 500;
		assert.deepEqual(outages.observe(RESUMED), { end: 'resumed', durationMs: 7_500 });
		assert.equal(outages.isOut, false);
		assert.equal(outages.outageMs, undefined);
		assert.deepEqual(outages.summary, { drops: 1, last: { end: 'resumed', durationMs: 7_500 } });
	});

	it('tells a resumed session from a new one that replaced a lost session, and counts every drop', () => {
		const { clock, outages } = setup();
		assert.equal(outages.summary, undefined, 'no drop yet');
		outages.observe(reconnecting(1));
		clock.now += 3_000;
		outages.observe(RESUMED);
		outages.observe(reconnecting(1));
		clock.now += 40_000;
		assert.deepEqual(outages.observe(RENEWED), { end: 'lost', durationMs: 40_000 });
		assert.deepEqual(outages.summary, { drops: 2, last: { end: 'lost', durationMs: 40_000 } });
	});

	it('attributes connection failures to an outage only while it lasts, and keeps the first reason', () => {
		const { outages } = setup();
		outages.observe(CONNECTED);
		assert.equal(outages.attribute('connect ECONNREFUSED 127.0.0.1:5432'), false, "the target's failure");
		outages.observe(reconnecting(1));
		assert.equal(outages.attribute('the agent restarted; connections were lost'), true);
		outages.observe(reconnecting(2, false));
		assert.equal(outages.attribute('the agent is unreachable (still reconnecting)'), true);
		assert.deepEqual(outages.observe(RENEWED), {
			end: 'lost',
			durationMs: 0,
			failure: 'the agent restarted; connections were lost',
		});
		assert.deepEqual(outages.summary?.last, { end: 'lost', durationMs: 0 }, 'the reason is told once');
		assert.equal(outages.attribute('connect ECONNREFUSED 127.0.0.1:5432'), false, 'the outage is over');
		outages.observe(reconnecting(1));
		assert.deepEqual(outages.observe(RESUMED), { end: 'resumed', durationMs: 0 }, 'a new outage, no reason');
	});

	it("gives the reset's reason for a lost session, not a connection that gave up waiting before it", () => {
		const { outages } = setup();
		outages.observe(reconnecting(1, false));
		assert.equal(outages.attribute(UNREACHABLE_WHILE_RECONNECTING), true, 'a new connection waited 10 s');
		assert.equal(outages.attribute('the agent restarted; connections were lost'), true);
		assert.equal(outages.observe(RENEWED)?.failure, 'the agent restarted; connections were lost');
		outages.observe(reconnecting(1, false));
		outages.attribute(UNREACHABLE_WHILE_RECONNECTING);
		assert.equal(
			outages.observe(RENEWED)?.failure,
			UNREACHABLE_WHILE_RECONNECTING,
			'with no other reason, the one there is',
		);
		outages.observe(reconnecting(1));
		assert.equal(outages.observe(RESUMED)?.failure, undefined, 'each outage starts without one');
	});

	it('ends an outage without counting it when the link fails for good', () => {
		const { outages } = setup();
		outages.observe(reconnecting(1));
		outages.attribute('the token was revoked');
		outages.observe({ type: 'failed', error: new BerthError('BERTH_ERR_TOKEN_REVOKED', 'revoked') });
		assert.equal(outages.isOut, false);
		assert.equal(outages.summary, undefined);
		outages.observe(reconnecting(1));
		assert.deepEqual(
			outages.observe(RENEWED),
			{ end: 'lost', durationMs: 0 },
			"the refusal's reason is gone",
		);
	});
});
