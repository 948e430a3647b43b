import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingSignIns, SIGN_IN_TTL_MS, type PendingSignIn } from '../../../../server/auth/pending-sign-ins';
import { ensureNoLeaks } from '../../../helpers/leaks';

function signIn(state: string): PendingSignIn {
	return {
		state,
		nonce: `nonce-${state}`,
		codeVerifier: `verifier-${state}`,
		redirectUri: 'http://127.0.0.1:1/auth/callback',
		cookieName: `berth-oidc-${state}`,
		cookieValue: `value-${state}`,
		returnTo: '/',
	};
}

describe('PendingSignIns', () => {
	const leaks = ensureNoLeaks();

	it('gives a sign-in back once', () => {
		const pending = leaks.track(new PendingSignIns(leaks.timers()));
		pending.add(signIn('a'));
		assert.equal(pending.take('a')?.nonce, 'nonce-a');
		assert.equal(pending.take('a'), undefined);
		assert.equal(pending.take('unknown'), undefined);
		pending.dispose();
	});

	it('forgets a sign-in after SIGN_IN_TTL_MS, not before', () => {
		const timers = leaks.timers();
		const pending = leaks.track(new PendingSignIns(timers));
		pending.add(signIn('a'));
		timers.advance(SIGN_IN_TTL_MS - 1);
		pending.add(signIn('b'));
		assert.equal(pending.size, 2);
		timers.advance(1);
		assert.equal(pending.take('a'), undefined);
		assert.equal(pending.take('b')?.state, 'b');
		pending.dispose();
	});

	it('pushes out the oldest when full', () => {
		const pending = leaks.track(new PendingSignIns(leaks.timers(), SIGN_IN_TTL_MS, 3));
		for (const state of ['a', 'b', 'c', 'd']) {
			pending.add(signIn(state));
		}
		assert.equal(pending.size, 3);
		assert.equal(pending.take('a'), undefined);
		assert.deepEqual(
			['b', 'c', 'd'].map((s) => pending.take(s)?.state),
			['b', 'c', 'd'],
		);
		pending.dispose();
	});

	it('cancels its timers when disposed, and takes nothing after', () => {
		const timers = leaks.timers();
		const pending = leaks.track(new PendingSignIns(timers));
		pending.add(signIn('a'));
		pending.dispose();
		assert.equal(timers.pending, 0);
		pending.add(signIn('b'));
		assert.equal(pending.take('b'), undefined);
	});
});
