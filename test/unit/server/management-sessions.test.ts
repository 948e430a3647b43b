import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MESSAGE_LIMITS } from '../../../protocol/message-reader';
import type {
	ConnectionOutcome,
	HandshakeReply,
	Principal,
} from '../../../server/handshake/connection-types';
import { createNullLogger } from '../../../server/shared/log';
import { ManagementSessions } from '../../../server/management/management-sessions';
import { MAX_WAITING_SESSIONS } from '../../../server/sessions/resumable-sessions';
import { ManualTimers } from '../../helpers/manual-timers';
import { createTransportPair } from '../../helpers/memory-transport';

const MINUTE = 60_000;
const OWNER: Principal = { role: 'owner' };
const user = (userId: string): Principal => ({
	role: 'user',
	user: {
		userId,
		email: `${userId}@example.com`,
		tokenId: `jti-${userId}`,
		role: 'client',
		expiresAt: Infinity,
	},
});
const ALICE = user('alice');
const BOB = user('bob');

function setup(graceMs = 180 * MINUTE, maxWaiting?: number) {
	const timers = new ManualTimers();
	const warnings: string[] = [];
	const log = { ...createNullLogger(), warn: (message: string) => void warnings.push(message) };
	const sessions = new ManagementSessions({
		timers,
		log,
		graceMs,
		shortGraceMs: 5 * MINUTE,
		...(maxWaiting !== undefined ? { maxWaiting } : {}),
		limits: DEFAULT_MESSAGE_LIMITS,
		serve: () => undefined,
	});
	const replies: string[] = [];
	const reply: HandshakeReply = {
		ok: () => replies.push('ok'),
		refuse: (reason): ConnectionOutcome => (replies.push(reason), { type: 'refused', reason }),
	};
	const connect = async (token: string, isReconnection: boolean, principal: Principal = OWNER) => {
		const [agentSide, clientSide] = createTransportPair();
		await sessions.accept(
			{
				transport: agentSide,
				leftover: [],
				args: undefined,
				principal,
				reconnectionToken: token,
				isReconnection,
				remoteAddress: 'memory',
			},
			reply,
		);
		return { agentSide, clientSide };
	};
	return { timers, sessions, replies, connect, warnings };
}

describe('ManagementSessions', () => {
	it('keeps a dropped session for the grace time, then forgets it (seen before)', async () => {
		const { timers, sessions, replies, connect } = setup(10 * MINUTE);
		const { clientSide } = await connect('t1', false);
		clientSide.close();
		assert.deepEqual(sessions.counts, { connected: 0, waiting: 1 });
		timers.advance(10 * MINUTE - 1);
		await connect('t1', true);
		assert.deepEqual(replies, ['ok', 'ok'], 'resumed within the grace');
		const again = await connect('t1', true);
		again.clientSide.close();
		assert.equal(sessions.counts.waiting, 1);
		timers.advance(10 * MINUTE);
		assert.deepEqual(sessions.counts, { connected: 0, waiting: 0 });
		await connect('t1', true);
		assert.equal(replies.at(-1), 'Unknown reconnection token (seen before)');
	});

	it('shortens the wait to 5 min once another client connects', async () => {
		const { timers, sessions, replies, connect } = setup();
		(await connect('t1', false)).clientSide.close();
		(await connect('t3', false)).clientSide.close();
		timers.advance(60 * MINUTE);
		sessions.shortenGraces(OWNER); // what the agent calls when another client authenticates
		timers.advance(5 * MINUTE - 1);
		await connect('t3', true);
		assert.equal(replies.at(-1), 'ok', 't3 is still there just before the short grace ends');
		timers.advance(1);
		await connect('t1', true);
		assert.equal(
			replies.at(-1),
			'Unknown reconnection token (seen before)',
			't1 expired after the short grace',
		);
	});

	it("shortens only the same holder's graces, and keeps one user out of another's session", async () => {
		const { timers, sessions, replies, connect } = setup();
		(await connect('alice-1', false, ALICE)).clientSide.close();
		(await connect('owner-1', false)).clientSide.close();
		sessions.shortenGraces(ALICE); // another of Alice's clients connected
		timers.advance(5 * MINUTE);
		await connect('owner-1', true, BOB);
		assert.equal(replies.at(-1), 'Unauthorized client refused', "Bob cannot resume the owner's session");
		await connect('owner-1', true);
		assert.equal(replies.at(-1), 'ok', "the owner's wait was not shortened by Alice");
		await connect('alice-1', true, ALICE);
		assert.equal(replies.at(-1), 'Unknown reconnection token (seen before)', "Alice's own wait was");
	});

	it('never lets the short grace outlast the long one', async () => {
		const { timers, sessions, connect } = setup(2 * MINUTE);
		const { clientSide } = await connect('t1', false);
		clientSide.close();
		sessions.shortenGraces(OWNER);
		timers.advance(2 * MINUTE);
		assert.equal(sessions.counts.waiting, 0);
	});

	it('refuses a duplicate live token and an unknown one, in VS Code’s words', async () => {
		const { replies, connect } = setup();
		await connect('t1', false);
		await connect('t1', false);
		await connect('never', true);
		assert.deepEqual(replies, [
			'ok',
			'Duplicate reconnection token',
			'Unknown reconnection token (never seen)',
		]);
	});

	it('ends the session waiting longest when more than maxWaiting wait, and says so', async () => {
		const { sessions, replies, connect, warnings } = setup(180 * MINUTE, 2);
		const t1 = await connect('t1', false);
		const t2 = await connect('t2', false);
		const t3 = await connect('t3', false);
		t2.clientSide.close();
		t1.clientSide.close(); // t2 has waited longest, then t1
		assert.deepEqual(sessions.counts, { connected: 1, waiting: 2 });
		t3.clientSide.close();
		assert.deepEqual(sessions.counts, { connected: 0, waiting: 2 });
		assert.equal(warnings.length, 1, 'one session ended, in the log');
		await connect('t2', true);
		assert.equal(replies.at(-1), 'Unknown reconnection token (seen before)', 't2 was ended');
		await connect('t1', true);
		assert.equal(replies.at(-1), 'ok', 't1 still waited');
	});

	it('moves a session that reconnects and drops again to the back of the wait', async () => {
		const { sessions, replies, connect } = setup(180 * MINUTE, 2);
		(await connect('t1', false)).clientSide.close();
		(await connect('t2', false)).clientSide.close();
		(await connect('t1', true)).clientSide.close(); // t1 is now the newest waiter
		(await connect('t3', false)).clientSide.close();
		assert.equal(sessions.counts.waiting, 2);
		await connect('t2', true);
		assert.equal(replies.at(-1), 'Unknown reconnection token (seen before)', 't2 waited longest');
		await connect('t1', true);
		assert.equal(replies.at(-1), 'ok');
	});

	it('bounds the waiting sessions by default however many clients drop', async () => {
		const { sessions, connect } = setup();
		for (let i = 0; i < MAX_WAITING_SESSIONS + 50; i++) {
			(await connect(`t${i}`, false)).clientSide.close();
		}
		assert.deepEqual(sessions.counts, { connected: 0, waiting: MAX_WAITING_SESSIONS });
	});
});
