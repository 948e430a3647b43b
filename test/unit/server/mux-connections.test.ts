import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { HandshakeReason } from '../../../protocol/errors';
import { DEFAULT_MESSAGE_LIMITS } from '../../../protocol/message-reader';
import { Mux } from '../../../protocol/mux';
import { createMuxArgs, ResetCode } from '../../../protocol/mux-frames';
import type { MuxStream } from '../../../protocol/mux-stream';
import type { AgentEvents, AgentMethods } from '../../../protocol/rpc';
import { RpcEndpoint } from '../../../protocol/rpc-endpoint';
import { Session } from '../../../protocol/session';
import type { ConnectionOutcome, Principal } from '../../../server/handshake/connection-types';
import { MuxConnections } from '../../../server/mux/mux-connections';
import { createNullLogger } from '../../../server/shared/log';
import { TargetPolicy } from '../../../server/shared/target-policy';
import { ManualTimers } from '../../helpers/manual-timers';
import { createTransportPair, type MemoryTransport } from '../../helpers/memory-transport';
import { serve } from '../../helpers/net';
import { waitFor } from '../../helpers/wait';

/**
 * The agent's stream sessions across a dropped socket, in memory: the client's end is a Session
 * and a Mux on one side of a memory socket, the agent's targets are real loopback sockets (an echo
 * server). The agent holds a dropped session for the grace time, its target sockets open, and a
 * reconnection with the same token goes on where it was.
 */

const MINUTE = 60_000;
const GRACE_MS = 10 * MINUTE;
const SHORT_GRACE_MS = 1 * MINUTE;
const OWNER: Principal = { role: 'owner' };
const ALICE: Principal = {
	role: 'user',
	user: {
		userId: 'alice',
		email: 'alice@example.com',
		tokenId: 'jti-alice',
		role: 'client',
		expiresAt: Infinity,
	},
};

/** An echo target that reports whether its connections are still open. */
async function echoTarget() {
	const sockets: Socket[] = [];
	const target = await serve((socket) => {
		sockets.push(socket);
		socket.pipe(socket);
	});
	return { ...target, sockets, open: () => sockets.filter((s) => !s.destroyed).length };
}

function setup() {
	const timers = new ManualTimers();
	const connections = new MuxConnections({
		timers,
		log: createNullLogger(),
		limits: DEFAULT_MESSAGE_LIMITS,
		policy: TargetPolicy.openToAll,
		allowRemoteBind: false,
		graceMs: GRACE_MS,
		shortGraceMs: SHORT_GRACE_MS,
		serve: (rpc) => {
			rpc.handle('listeningPorts', () => ({ ports: [] }));
			return { dispose: () => undefined };
		},
	});
	const replies: string[] = [];
	/** The client's end of one stream session: reconnects with its token, as StreamSession does. */
	const client = (token: string, principal: Principal = OWNER) => {
		const session = new Session({ timers });
		const events: string[] = [];
		const failures: string[] = [];
		session.onDidFail((e) => failures.push(e.message));
		const mux = new Mux({
			channel: session,
			role: 'client',
			onOpen: (stream) => stream.reset(ResetCode.Rejected, 'no'),
			onRpc: (bytes) => rpc.receive(bytes),
			onProtocolError: (message) => failures.push(message),
		});
		const rpc = new RpcEndpoint<Record<string, never>, AgentMethods, Record<string, never>, AgentEvents>({
			send: (bytes) => mux.sendRpc(bytes),
			timers,
		});
		rpc.onDidReceiveEvent((e) => events.push(e.event));
		let wire: MemoryTransport | undefined;
		/** One connection through the handshake; attached when the agent said ok. Returns the reply. */
		const connect = async (isReconnection: boolean, as: Principal = principal): Promise<string> => {
			const [agentSide, clientSide] = createTransportPair();
			const reply = {
				ok: () => replies.push('ok'),
				refuse: (reason: string): ConnectionOutcome => (replies.push(reason), { type: 'refused', reason }),
			};
			await connections.accept(
				{
					transport: agentSide,
					leftover: [],
					args: createMuxArgs(),
					principal: as,
					reconnectionToken: token,
					isReconnection,
					remoteAddress: 'memory',
				},
				reply,
			);
			if (replies.at(-1) === 'ok') {
				session.attach(clientSide);
				wire = clientSide;
			}
			return replies.at(-1)!;
		};
		const drop = (): void => wire?.close();
		/** The path goes silent (a dead NAT entry): the agent sees no close, the client gives the socket up. */
		const blackHole = (): void => {
			if (wire) {
				wire.hold();
				wire.peer?.hold();
				wire.peer = undefined; // closing this end no longer tells the agent's
				session.detach();
			}
		};
		const dispose = (): void => {
			rpc.dispose();
			mux.dispose();
			session.dispose();
		};
		return { session, mux, rpc, events, failures, connect, drop, blackHole, dispose };
	};
	return { timers, connections, client };
}

/** An echo target, the agent's MuxConnections and one client ('t1'), all ended after the test. */
async function withTarget(t: TestContext) {
	const target = await echoTarget();
	const rig = setup();
	const near = rig.client('t1');
	t.after(async () => {
		near.dispose();
		rig.connections.dispose();
		await target.close();
	});
	return { ...rig, target, near };
}

/** What a stream receives, as one buffer. */
function collect(stream: MuxStream): { bytes: () => Buffer; reset: () => string | undefined } {
	const got: Buffer[] = [];
	let reset: string | undefined;
	stream.attach({
		onData: (chunk) => {
			got.push(Buffer.from(chunk));
			stream.setBuffered(0);
		},
		onEnd: () => undefined,
		onReset: (r) => (reset = r.reason),
		onDrain: () => undefined,
	});
	return { bytes: () => Buffer.concat(got), reset: () => reset };
}

describe('MuxConnections across a dropped socket', () => {
	it('holds a dropped session with its target sockets, and goes on byte-exact when the client resumes', async (t) => {
		const { target, connections, near } = await withTarget(t);
		assert.equal(await near.connect(false), 'ok');
		const stream = near.mux.open({ kind: 'tcp', host: '127.0.0.1', port: target.port });
		const echo = collect(stream);
		const before = randomBytes(256 * 1024);
		stream.write(before);
		await waitFor(() => echo.bytes().length > 0, 'the first echoed bytes');

		near.drop(); // while the echo is still coming back: the agent's stream queues it
		assert.deepEqual(connections.counts, { sessions: 0, waiting: 1, streams: 1 });
		const during = randomBytes(64 * 1024);
		stream.write(during);
		const answer = near.rpc.request('listeningPorts', {});
		connections.broadcast('portsChanged', { added: [], removed: [] });
		await waitFor(() => target.sockets.length === 1, 'the target connection');
		assert.equal(target.open(), 1, 'the target socket stays open while the agent waits');

		assert.equal(await near.connect(true), 'ok');
		assert.deepEqual(connections.counts, { sessions: 1, waiting: 0, streams: 1 });
		const expected = Buffer.concat([before, during]);
		await waitFor(() => echo.bytes().length >= expected.length, 'every echoed byte');
		assert.ok(echo.bytes().equals(expected), 'byte-exact, in order, none twice');
		assert.deepEqual(await answer, { ports: [] }, 'the request made while detached was answered');
		assert.deepEqual(near.events, ['portsChanged'], 'the event sent while detached arrived, once');
		assert.equal(echo.reset(), undefined);
		assert.deepEqual(near.failures, []);
	});

	it('ends a session whose client did not come back within the grace: its targets close, its token is refused', async (t) => {
		const { target, timers, connections, near } = await withTarget(t);
		await near.connect(false);
		const echo = collect(near.mux.open({ kind: 'tcp', host: '127.0.0.1', port: target.port }));
		await waitFor(() => target.open() === 1, 'the target connection');
		near.drop();
		timers.advance(GRACE_MS - 1);
		assert.deepEqual(connections.counts, { sessions: 0, waiting: 1, streams: 1 }, 'still held');
		timers.advance(1);
		assert.deepEqual(connections.counts, { sessions: 0, waiting: 0, streams: 0 }, 'ended at the grace');
		await waitFor(() => target.open() === 0, "the target's socket closed");
		assert.equal(await near.connect(true), HandshakeReason.UnknownReconnectionTokenSeenBefore);
		assert.equal(echo.reset(), undefined, 'the client learns it from the refusal (the socket was gone)');
	});

	it("shortens a waiting session's grace when the same holder starts a new session, not another holder", async (t) => {
		const { timers, connections, client } = setup();
		const waiting = client('t1');
		const alice = client('alice-1', ALICE);
		const owner = client('t2');
		t.after(() => {
			for (const c of [waiting, alice, owner]) {
				c.dispose();
			}
			connections.dispose();
		});
		await waiting.connect(false);
		waiting.drop();
		assert.equal(
			await waiting.connect(true, ALICE),
			HandshakeReason.Unauthorized,
			"Alice cannot resume the owner's",
		);
		await alice.connect(false);
		timers.advance(SHORT_GRACE_MS);
		assert.equal(connections.counts.waiting, 1, "Alice's new session did not shorten the owner's wait");
		await owner.connect(false);
		timers.advance(SHORT_GRACE_MS - 1);
		assert.equal(connections.counts.waiting, 1);
		timers.advance(1);
		assert.equal(connections.counts.waiting, 0, "the owner's new session did");
	});

	it('lets the client take its session over while the agent still thinks the old socket alive (a silent path)', async (t) => {
		const { target, connections, near } = await withTarget(t);
		await near.connect(false);
		const stream = near.mux.open({ kind: 'tcp', host: '127.0.0.1', port: target.port });
		const echo = collect(stream);
		stream.write(Buffer.from('one '));
		await waitFor(() => echo.bytes().length === 4, 'the first echo');
		near.blackHole(); // the client's KeepAlive found the path dead; the agent has not noticed yet
		stream.write(Buffer.from('two'));
		assert.deepEqual(
			connections.counts,
			{ sessions: 1, waiting: 0, streams: 1 },
			'the agent still holds a socket',
		);
		assert.equal(await near.connect(true), 'ok');
		assert.deepEqual(connections.counts, { sessions: 1, waiting: 0, streams: 1 });
		await waitFor(() => echo.bytes().length === 7, 'the echo on the new socket');
		assert.equal(echo.bytes().toString(), 'one two');
		assert.deepEqual(near.failures, []);
	});
});
