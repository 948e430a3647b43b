import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError, HandshakeReason } from '../../../protocol/errors';
import { isStaleSession, staleSessionMessage } from '../../../server/client/stale-session';

/** A refusal as the client's handshake reports it: the agent's reason in `reason`, words around it. */
const refused = (reason: string) =>
	new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', `Connection error: ${reason}`, reason);

/**
 * The forwarder's loop renews a stream session (streams reset, a new session) only when a resume
 * is refused because the agent no longer holds the session; any other failure is retried as a
 * resume. (The loop itself needs a real agent: test/integration/resume.integration.test.ts.)
 */
describe('isStaleSession', () => {
	it('is true for the two refusals of an unknown reconnection token', () => {
		assert.equal(isStaleSession(refused(HandshakeReason.UnknownReconnectionTokenNeverSeen)), true);
		assert.equal(isStaleSession(refused(HandshakeReason.UnknownReconnectionTokenSeenBefore)), true);
	});

	it('is false for other refusals, for failures without a reason, and for what is not a BerthError', () => {
		for (const reason of [
			HandshakeReason.Unauthorized,
			HandshakeReason.DuplicateReconnectionToken,
			HandshakeReason.AuthMismatch,
		]) {
			assert.equal(isStaleSession(refused(reason)), false, reason);
		}
		assert.equal(isStaleSession(new BerthError('BERTH_ERR_TIMEOUT', 'no answer within 30 s')), false);
		const words = HandshakeReason.UnknownReconnectionTokenNeverSeen;
		assert.equal(
			isStaleSession(new BerthError('BERTH_ERR_CONNECT', words)),
			false,
			'the reason, not the words',
		);
		assert.equal(isStaleSession(new Error(words)), false);
		assert.equal(isStaleSession(undefined), false);
	});
});

describe('staleSessionMessage', () => {
	it('says the agent restarted when it never saw the token, and that the grace ran out when it had', () => {
		assert.equal(
			staleSessionMessage(refused(HandshakeReason.UnknownReconnectionTokenNeverSeen)),
			'the agent restarted; connections were lost',
		);
		assert.match(
			staleSessionMessage(refused(HandshakeReason.UnknownReconnectionTokenSeenBefore)),
			/grace time ran out/,
		);
	});
});
