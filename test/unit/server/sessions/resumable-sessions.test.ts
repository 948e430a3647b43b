import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeReason } from '../../../../protocol/errors';
import { Disposable, Emitter } from '../../../../protocol/lifecycle';
import type {
	ConnectionOutcome,
	ConnectionRequest,
	HandshakeReply,
	Principal,
} from '../../../../server/handshake/connection-types';
import { createNullLogger } from '../../../../server/shared/log';
import {
	MAX_WAITING_SESSIONS,
	ResumableSessions,
	type ResumableSession,
} from '../../../../server/sessions/resumable-sessions';
import { createTransportPair } from '../../../helpers/memory-transport';

const OWNER: Principal = { role: 'owner' };
const user = (userId: string, tokenId = `jti-${userId}`): Principal => ({
	role: 'user',
	user: { userId, email: `${userId}@example.com`, tokenId, role: 'client', expiresAt: Infinity },
});
const ALICE = user('alice');
const BOB = user('bob');
const CONNECTOR_1: Principal = { role: 'connector', tokenId: 'c1' };
const CONNECTOR_2: Principal = { role: 'connector', tokenId: 'c2' };

/** A session that records what the table asks of it; the test drops its socket or ends it. */
class FakeSession extends Disposable implements ResumableSession {
	private readonly _onDidChangeConnection = this._register(new Emitter<void>());
	readonly onDidChangeConnection = this._onDidChangeConnection.event;
	private readonly _onDidEnd = this._register(new Emitter<void>());
	readonly onDidEnd = this._onDidEnd.event;
	isConnected = false;
	readonly attached: ConnectionRequest[] = [];
	shortened = 0;

	constructor(
		readonly number: number,
		readonly token: string,
		readonly principal: Principal,
	) {
		super();
	}

	attach(request: ConnectionRequest): void {
		this.attached.push(request);
		this.isConnected = true;
		this._onDidChangeConnection.fire();
	}

	/** The socket dropped: the session waits for its client. */
	drop(): void {
		this.isConnected = false;
		this._onDidChangeConnection.fire();
	}

	shortenGrace(): void {
		this.shortened++;
	}

	get ended(): boolean {
		return this.isDisposed;
	}

	override dispose(): void {
		if (!this.ended) {
			this._onDidEnd.fire();
			super.dispose();
		}
	}
}

function setup(options: { maxWaiting?: number; shortenOnNewSession?: boolean } = {}) {
	const warnings: string[] = [];
	const log = { ...createNullLogger(), warn: (message: string) => void warnings.push(message) };
	const created: FakeSession[] = [];
	const table = new ResumableSessions<FakeSession>({
		log,
		kind: 'streams',
		...options,
		create: (number, token, request) => {
			const session = new FakeSession(number, token, request.principal);
			created.push(session);
			return session;
		},
	});
	const replies: string[] = [];
	let countChanges = 0;
	table.onDidChangeCounts(() => countChanges++);
	/** One connection through the handshake: its reply (`ok` or the refusal) and the table's outcome. */
	const connect = (token: string, isReconnection: boolean, principal: Principal = OWNER) => {
		const request: ConnectionRequest = {
			transport: createTransportPair()[0],
			leftover: [],
			args: undefined,
			principal,
			reconnectionToken: token,
			isReconnection,
			remoteAddress: 'memory',
		};
		const reply: HandshakeReply = {
			ok: () => replies.push('ok'),
			refuse: (reason): ConnectionOutcome => (replies.push(reason), { type: 'refused', reason }),
		};
		const outcome = table.accept(request, reply);
		return { request, outcome, reply: replies.at(-1) };
	};
	const session = (token: string): FakeSession => created.find((s) => s.token === token)!;
	return { table, created, replies, connect, session, warnings, countChanges: () => countChanges };
}

describe('ResumableSessions', () => {
	it('starts a session for a new token and attaches the connection to it', () => {
		const { table, created, connect } = setup();
		const { request, outcome, reply } = connect('t1', false);
		assert.equal(reply, 'ok');
		assert.deepEqual(outcome, { type: 'accepted', detail: 'streams#1' });
		assert.equal(created.length, 1);
		assert.deepEqual(created[0]!.attached, [request]);
		assert.deepEqual(table.counts, { connected: 1, waiting: 0 });
	});

	it('refuses a new session with a token in use, connected or waiting (Duplicate reconnection token)', () => {
		const { created, connect, session } = setup();
		connect('t1', false);
		assert.equal(connect('t1', false).reply, HandshakeReason.DuplicateReconnectionToken);
		session('t1').drop();
		assert.equal(connect('t1', false).reply, HandshakeReason.DuplicateReconnectionToken);
		assert.equal(created.length, 1, 'no second session');
		assert.equal(session('t1').attached.length, 1, 'the first one was not touched');
	});

	it('refuses a reconnection with an unknown token: never seen (the agent restarted) or seen before (it ended)', () => {
		const { connect, session } = setup();
		const never = connect('t1', true);
		assert.equal(never.reply, HandshakeReason.UnknownReconnectionTokenNeverSeen);
		assert.deepEqual(never.outcome, {
			type: 'refused',
			reason: HandshakeReason.UnknownReconnectionTokenNeverSeen,
		});
		connect('t2', false);
		session('t2').dispose(); // its grace ran out, or it was ended
		assert.equal(connect('t2', true).reply, HandshakeReason.UnknownReconnectionTokenSeenBefore);
		assert.equal(
			connect('t1', true).reply,
			HandshakeReason.UnknownReconnectionTokenNeverSeen,
			'a refusal is not a sighting',
		);
	});

	it("refuses another holder's reconnection to a session (Unauthorized), and leaves the session waiting for its own", () => {
		const { table, connect, session } = setup();
		connect('owner-1', false);
		connect('alice-1', false, ALICE);
		connect('c1', false, CONNECTOR_1);
		for (const s of ['owner-1', 'alice-1', 'c1']) {
			session(s).drop();
		}
		assert.equal(
			connect('owner-1', true, ALICE).reply,
			HandshakeReason.Unauthorized,
			"Alice cannot take the owner's",
		);
		assert.equal(
			connect('alice-1', true, BOB).reply,
			HandshakeReason.Unauthorized,
			"Bob cannot take Alice's",
		);
		assert.equal(
			connect('alice-1', true, OWNER).reply,
			HandshakeReason.Unauthorized,
			"nor the owner Alice's",
		);
		assert.equal(
			connect('c1', true, CONNECTOR_2).reply,
			HandshakeReason.Unauthorized,
			'another connector token',
		);
		assert.deepEqual(table.counts, { connected: 0, waiting: 3 }, 'each still waits');
		assert.equal(session('alice-1').attached.length, 1, 'none was attached to the intruder');
		const again = connect('alice-1', true, user('alice', 'another-jti'));
		assert.equal(again.reply, 'ok', 'Alice with another of her tokens is Alice');
		assert.equal(connect('c1', true, CONNECTOR_1).reply, 'ok');
	});

	it('resumes a waiting session: the new connection is attached to it, its number kept', () => {
		const { table, created, connect, session } = setup();
		connect('t1', false);
		session('t1').drop();
		assert.deepEqual(table.counts, { connected: 0, waiting: 1 });
		const { request, outcome, reply } = connect('t1', true);
		assert.equal(reply, 'ok');
		assert.deepEqual(outcome, { type: 'accepted', detail: 'streams#1 resumed' });
		assert.equal(created.length, 1, 'no new session');
		assert.equal(session('t1').attached.at(-1), request);
		assert.deepEqual(table.counts, { connected: 1, waiting: 0 });
	});

	it('lets its holder take over a session whose old socket still looks connected (the agent had not noticed the drop)', () => {
		const { table, created, connect, session } = setup();
		connect('t1', false);
		const { request, reply } = connect('t1', true);
		assert.equal(reply, 'ok');
		assert.equal(session('t1').attached.at(-1), request);
		assert.equal(created.length, 1);
		assert.deepEqual(table.counts, { connected: 1, waiting: 0 });
		assert.equal(connect('t1', true, ALICE).reply, HandshakeReason.Unauthorized, 'not another holder');
	});

	it('ends the session that has waited longest once more than maxWaiting wait, and says so', () => {
		const { table, connect, session, warnings } = setup({ maxWaiting: 2 });
		for (const t of ['t1', 't2', 't3', 't4']) {
			connect(t, false);
		}
		session('t2').drop();
		session('t1').drop();
		session('t3').drop(); // t2 has waited longest
		assert.equal(session('t2').ended, true);
		assert.deepEqual(table.counts, { connected: 1, waiting: 2 });
		assert.equal(warnings.length, 1);
		assert.equal(connect('t2', true).reply, HandshakeReason.UnknownReconnectionTokenSeenBefore);
		connect('t1', true);
		session('t1').drop(); // t1 is now the newest waiter: t3 goes next
		session('t4').drop();
		assert.equal(session('t3').ended, true);
		assert.equal(session('t1').ended, false);
		assert.deepEqual(table.counts, { connected: 0, waiting: 2 });
	});

	it('bounds the waiting sessions by default', () => {
		const { table, connect, session } = setup();
		for (let i = 0; i < MAX_WAITING_SESSIONS + 10; i++) {
			connect(`t${i}`, false);
			session(`t${i}`).drop();
		}
		assert.deepEqual(table.counts, { connected: 0, waiting: MAX_WAITING_SESSIONS });
		assert.equal(session('t9').ended, true);
		assert.equal(session('t10').ended, false);
	});

	it("with shortenOnNewSession, a new session shortens its holder's other sessions only; a resume or a refusal shortens none", () => {
		const { connect, session } = setup({ shortenOnNewSession: true });
		connect('owner-1', false);
		connect('owner-2', false);
		connect('alice-1', false, ALICE);
		session('owner-1').drop();
		session('alice-1').drop();
		const shortened = () => ['owner-1', 'owner-2', 'alice-1'].map((t) => session(t).shortened);
		// (owner-2's start shortened owner-1 once already)
		assert.deepEqual(shortened(), [1, 0, 0]);
		connect('owner-3', false);
		assert.deepEqual(shortened(), [2, 1, 0], "the owner's new session: the owner's others, not Alice's");
		assert.equal(session('owner-3').shortened, 0, 'not the new session itself');
		connect('alice-1', true, ALICE);
		assert.deepEqual(shortened(), [2, 1, 0], 'a resume shortens nothing');
		connect('owner-2', false);
		assert.deepEqual(shortened(), [2, 1, 0], 'a refused connection (duplicate token) shortens nothing');
		connect('alice-2', false, ALICE);
		assert.deepEqual(shortened(), [2, 1, 1], "Alice's new session: Alice's");
	});

	it('without shortenOnNewSession (Management: the agent shortens), a new session shortens nothing', () => {
		const { table, connect, session } = setup();
		connect('t1', false);
		session('t1').drop();
		connect('t2', false);
		assert.equal(session('t1').shortened, 0);
		table.shortenGraces(OWNER);
		assert.equal(session('t1').shortened, 1, 'shortenGraces does');
		table.shortenGraces(ALICE);
		assert.equal(session('t1').shortened, 1, 'not for another holder');
	});

	it('counts connected and waiting sessions, and says when the counts change', () => {
		const { table, connect, session, countChanges } = setup();
		assert.deepEqual(table.counts, { connected: 0, waiting: 0 });
		connect('t1', false);
		connect('t2', false);
		assert.deepEqual(table.counts, { connected: 2, waiting: 0 });
		const before = countChanges();
		session('t1').drop();
		assert.deepEqual(table.counts, { connected: 1, waiting: 1 });
		connect('t1', true);
		assert.deepEqual(table.counts, { connected: 2, waiting: 0 });
		session('t2').dispose();
		assert.deepEqual(table.counts, { connected: 1, waiting: 0 });
		session('t1').drop();
		session('t1').dispose(); // its grace ran out
		assert.deepEqual(table.counts, { connected: 0, waiting: 0 });
		assert.equal(countChanges() - before, 5, 'drop, resume, end, drop, end');
		assert.deepEqual([...table.values()], []);
	});

	it('ends every session when disposed', () => {
		const { table, created, connect, session } = setup();
		connect('t1', false);
		connect('t2', false);
		session('t2').drop();
		table.dispose();
		assert.deepEqual(
			created.map((s) => s.ended),
			[true, true],
		);
	});
});
