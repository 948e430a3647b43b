import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WEB_SESSION_TTL_MS, WebSessions } from '../../../../server/http/web/web-sessions';
import { ManualTimers } from '../../../helpers/manual-timers';

const ALICE = { email: 'alice@example.com', userId: 'u-alice', isOwner: false };

describe('WebSessions', () => {
	it('makes a fresh random id and CSRF token per sign-in, never a token of the user', () => {
		const sessions = new WebSessions({ timers: new ManualTimers() });
		const a = sessions.create(ALICE);
		const b = sessions.create(ALICE);
		assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
		assert.match(a.csrf, /^[A-Za-z0-9_-]{43}$/);
		assert.equal(new Set([a.id, a.csrf, b.id, b.csrf]).size, 4);
		assert.deepEqual(sessions.get(a.id), a);
		assert.equal(sessions.get(b.id)?.email, 'alice@example.com');
	});

	it('ends a session after 12 h, and on delete', () => {
		const timers = new ManualTimers();
		const sessions = new WebSessions({ timers });
		const a = sessions.create(ALICE);
		const b = sessions.create(ALICE);
		sessions.delete(b.id);
		assert.equal(sessions.get(b.id), undefined);
		timers.advance(WEB_SESSION_TTL_MS - 1);
		assert.ok(sessions.get(a.id));
		timers.advance(1);
		assert.equal(sessions.get(a.id), undefined);
		assert.equal(sessions.size, 0, 'an expired session met is dropped');
		assert.equal(sessions.get(undefined), undefined);
		assert.equal(sessions.get('no-such-id'), undefined);
	});

	it('keeps at most max sessions, ending the oldest first, and drops expired ones on sign-in', () => {
		const timers = new ManualTimers();
		const sessions = new WebSessions({ timers, max: 3 });
		const made = [1, 2, 3, 4].map(() => sessions.create(ALICE));
		assert.equal(sessions.size, 3);
		assert.equal(sessions.get(made[0]!.id), undefined, 'the oldest ended');
		assert.ok(sessions.get(made[3]!.id));
		timers.advance(WEB_SESSION_TTL_MS);
		sessions.create(ALICE);
		assert.equal(sessions.size, 1, 'the expired ones were dropped at the sign-in');
	});
});
