import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraceTimer } from '../../../../server/sessions/grace-timer';
import { ManualTimers } from '../../../helpers/manual-timers';

const MINUTE = 60_000;

function setup(graceMs = 180 * MINUTE, shortGraceMs = 5 * MINUTE) {
	const timers = new ManualTimers();
	const state = { expired: 0 };
	const grace = new GraceTimer({ timers, graceMs, shortGraceMs, onExpire: () => state.expired++ });
	return { timers, grace, state };
}

describe('GraceTimer', () => {
	it('expires once, the long grace after the drop', () => {
		const { timers, grace, state } = setup(10 * MINUTE);
		grace.start();
		assert.equal(grace.isRunning, true);
		timers.advance(10 * MINUTE - 1);
		assert.equal(state.expired, 0);
		timers.advance(1);
		assert.equal(state.expired, 1);
		assert.equal(grace.isRunning, false);
		timers.advance(60 * MINUTE);
		assert.equal(state.expired, 1, 'once only');
		assert.equal(timers.pending, 0, 'no timer left behind');
	});

	it('shortens a running wait to the short grace, counted from then, and expires once', () => {
		const { timers, grace, state } = setup(180 * MINUTE, 5 * MINUTE);
		grace.start();
		timers.advance(60 * MINUTE);
		assert.equal(grace.shorten(), 5 * MINUTE);
		timers.advance(5 * MINUTE - 1);
		assert.equal(state.expired, 0);
		timers.advance(1);
		assert.equal(state.expired, 1);
		timers.advance(180 * MINUTE);
		assert.equal(state.expired, 1, 'the long timer was stopped with it');
		assert.equal(timers.pending, 0);
	});

	it('does not restart the short grace when shortened again, nor shorten a wait that is not running', () => {
		const { timers, grace, state } = setup(180 * MINUTE, 5 * MINUTE);
		assert.equal(grace.shorten(), undefined, 'nothing to shorten');
		assert.equal(timers.pending, 0);
		grace.start();
		assert.equal(grace.shorten(), 5 * MINUTE);
		timers.advance(4 * MINUTE);
		assert.equal(grace.shorten(), undefined, 'already short');
		timers.advance(1 * MINUTE);
		assert.equal(state.expired, 1, 'five minutes after the first shortening');
	});

	it('never lets the short grace outlast the long one', () => {
		const { timers, grace, state } = setup(2 * MINUTE, 5 * MINUTE);
		grace.start();
		assert.equal(grace.shorten(), 2 * MINUTE);
		timers.advance(2 * MINUTE);
		assert.equal(state.expired, 1);
		timers.advance(10 * MINUTE);
		assert.equal(state.expired, 1);
	});

	it('stops (the client came back): nothing expires, no timer is left', () => {
		const { timers, grace, state } = setup(10 * MINUTE);
		grace.start();
		grace.shorten();
		grace.stop();
		assert.equal(grace.isRunning, false);
		assert.equal(timers.pending, 0);
		timers.advance(60 * MINUTE);
		assert.equal(state.expired, 0);
	});

	it('starts the long wait afresh on the next drop', () => {
		const { timers, grace, state } = setup(10 * MINUTE);
		grace.start();
		timers.advance(9 * MINUTE);
		grace.stop(); // the client came back
		grace.start(); // and dropped again
		timers.advance(9 * MINUTE);
		assert.equal(state.expired, 0, 'the wait counts from the latest drop');
		timers.advance(1 * MINUTE);
		assert.equal(state.expired, 1);
		grace.start();
		grace.start();
		assert.equal(timers.pending, 1, 'starting twice holds one timer');
	});

	it('is disposed like a stop', () => {
		const { timers, grace, state } = setup(10 * MINUTE);
		grace.start();
		grace.dispose();
		timers.advance(60 * MINUTE);
		assert.equal(state.expired, 0);
		assert.equal(timers.pending, 0);
	});
});
