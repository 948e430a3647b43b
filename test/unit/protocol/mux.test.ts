import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	MUX_MAX_DATA_FRAME_BYTES,
	MUX_MAX_READ_BYTES,
	STREAM_INITIAL_WINDOW_BYTES,
	STREAM_MIN_WINDOW_BYTES,
	STREAM_WINDOW_BYTES,
} from '../../../protocol/constants';
import { Mux } from '../../../protocol/mux';
import { channelPair } from '../../helpers/channel-pair';
import { FrameKind, ResetCode, type OpenTarget, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';

/** A handler that collects what it gets; `hold: true` reports everything as still buffered (a stalled reader). */
function collector(stream: MuxStream, options: { hold?: boolean } = {}) {
	const got: Buffer[] = [];
	const state = { ended: false, reset: undefined as StreamReset | undefined, drains: 0, opened: false };
	const handler: StreamHandler = {
		onData: (chunk) => {
			got.push(Buffer.from(chunk));
			stream.setBuffered(options.hold ? got.reduce((n, c) => n + c.length, 0) : 0);
		},
		onEnd: () => (state.ended = true),
		onReset: (reason) => (state.reset = reason),
		onDrain: () => state.drains++,
		onOpened: () => (state.opened = true),
	};
	stream.attach(handler);
	return {
		got,
		state,
		text: () => Buffer.concat(got).toString(),
		bytes: () => got.reduce((n, c) => n + c.length, 0),
	};
}

function setup(
	options: { budget?: number; highWater?: number; unackedHighWater?: number; queueCap?: number } = {},
) {
	const [clientEnd, agentEnd] = channelPair();
	const incoming: { stream: MuxStream; target: OpenTarget }[] = [];
	const rpc: string[] = [];
	const errors: string[] = [];
	const client = new Mux({
		channel: clientEnd.channel,
		role: 'client',
		onOpen: (stream) => stream.reset(ResetCode.Rejected, 'no'),
		onRpc: (b) => rpc.push(`client:${Buffer.from(b).toString()}`),
		onProtocolError: (m) => errors.push(m),
		...(options.highWater !== undefined ? { highWaterBytes: options.highWater } : {}),
		...(options.unackedHighWater !== undefined ? { unackedHighWaterBytes: options.unackedHighWater } : {}),
		...(options.queueCap !== undefined ? { sendQueueCapBytes: options.queueCap } : {}),
	});
	const agent = new Mux({
		channel: agentEnd.channel,
		role: 'agent',
		onOpen: (stream, target) => incoming.push({ stream, target }),
		onRpc: (b) => rpc.push(`agent:${Buffer.from(b).toString()}`),
		onProtocolError: (m) => errors.push(m),
		...(options.budget !== undefined ? { receiveBudgetBytes: options.budget } : {}),
	});
	return { clientEnd, agentEnd, client, agent, incoming, rpc, errors };
}

describe('Mux', () => {
	it('opens a stream to a target and carries bytes both ways, in order', () => {
		const { client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'db', port: 5432 });
		stream.write(Buffer.from('hello '));
		assert.deepEqual(incoming[0]!.target, { kind: 'tcp', host: 'db', port: 5432 });
		const far = incoming[0]!.stream;
		const farSide = collector(far);
		far.accept();
		const nearSide = collector(stream);
		stream.write(Buffer.from('world'));
		far.write(Buffer.from('pong'));
		assert.equal(farSide.text(), 'hello world', 'data written before the accept is held, not lost');
		assert.equal(nearSide.text(), 'pong');
		assert.equal(nearSide.state.opened, true);
	});

	it('sends no OpenOk for a stream opened with openOk: false, and still carries a refusal as a Reset', () => {
		const { client, incoming, agentEnd } = setup();
		const stream = client.open({ kind: 'tcp', host: 'db', port: 5432, openOk: false });
		const near = collector(stream);
		stream.write(Buffer.from('early'));
		const far = incoming[0]!.stream;
		const farSide = collector(far);
		far.accept();
		far.write(Buffer.from('reply'));
		assert.equal(farSide.text(), 'early');
		assert.equal(near.text(), 'reply');
		assert.equal(near.state.opened, false, 'no OpenOk came');
		const kinds = agentEnd.sent.map((message) => message[0]);
		assert.deepEqual(kinds, [FrameKind.Data], 'the accepting side sent the reply and nothing before it');

		const refused = client.open({ kind: 'tcp', host: 'db', port: 1, openOk: false });
		const refusedSide = collector(refused);
		refused.write(Buffer.from('early bytes of a refused connection'));
		incoming[1]!.stream.reset(ResetCode.Refused, 'connect ECONNREFUSED 127.0.0.1:1');
		assert.deepEqual(refusedSide.state.reset, {
			code: ResetCode.Refused,
			reason: 'connect ECONNREFUSED 127.0.0.1:1',
		});
		assert.equal(refusedSide.text(), '');
	});

	it('half-closes: after End one way, the other way still carries the late reply', () => {
		const { client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const near = collector(stream);
		const far = incoming[0]!.stream;
		const farSide = collector(far);
		stream.write(Buffer.from('request'));
		stream.end();
		assert.equal(farSide.state.ended, true);
		far.write(Buffer.from('late reply'));
		far.end();
		assert.equal(near.text(), 'late reply');
		assert.equal(near.state.ended, true);
		assert.equal(client.streamCount, 0, 'both Ends seen: the stream is gone');
	});

	it('stops a writer at the reader’s window and resumes it when the reader catches up', () => {
		const { client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const near = collector(stream);
		const far = incoming[0]!.stream;
		let held = 0;
		far.attach({
			onData: (c) => {
				held += c.byteLength;
				far.setBuffered(held); // a reader that holds everything it gets
			},
			onEnd: () => undefined,
			onReset: () => undefined,
			onDrain: () => undefined,
		});
		const chunk = Buffer.alloc(64 * 1024);
		let writes = 0;
		while (stream.write(chunk) && writes < 100) {
			writes++;
		}
		assert.ok(writes < 100, 'the writer was told to stop');
		assert.equal(held, STREAM_WINDOW_BYTES, 'the stalled reader holds its window, no more');
		const drainsBefore = near.state.drains;
		far.setBuffered(0); // the reader caught up: credit flows back
		assert.ok(near.state.drains > drainsBefore, 'the writer was told to go on');
		assert.ok(held > STREAM_WINDOW_BYTES, 'and more arrived');
	});

	it('starts a stream with a smaller window until its reader reports progress', () => {
		const { client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const chunk = Buffer.alloc(64 * 1024);
		for (let i = 0; i < 10; i++) {
			stream.write(chunk);
		}
		// No handler on the far side yet (its target is still being reached): only the initial
		// window crossed, the rest waits on the writer's side.
		assert.equal(stream.pendingBytes, 10 * 64 * 1024 - STREAM_INITIAL_WINDOW_BYTES);
		const far = collector(incoming[0]!.stream);
		assert.equal(far.bytes(), 10 * 64 * 1024, 'once the reader runs, the rest follows');
		assert.equal(stream.pendingBytes, 0);
	});

	it('keeps a stalled stream from stopping another one', () => {
		const { client, incoming } = setup();
		const stalled = client.open({ kind: 'tcp', host: 'slow', port: 1 });
		const busy = client.open({ kind: 'tcp', host: 'fast', port: 2 });
		const stalledFar = collector(incoming[0]!.stream, { hold: true });
		const busyFar = collector(incoming[1]!.stream);
		const chunk = Buffer.alloc(64 * 1024, 1);
		for (let i = 0; i < 50; i++) {
			stalled.write(chunk);
		}
		for (let i = 0; i < 800; i++) {
			assert.ok(busy.write(chunk), 'the busy stream never has to wait');
		}
		assert.equal(busyFar.bytes(), 800 * 64 * 1024, '50 MiB crossed on the second stream');
		assert.equal(stalledFar.bytes(), STREAM_WINDOW_BYTES, 'the stalled one holds its window, no more');
	});

	it('serves waiting streams round robin while the socket is congested, and RPC jumps the queue', () => {
		const { clientEnd, client, incoming, rpc } = setup({ highWater: 64 * 1024 });
		const a = client.open({ kind: 'tcp', host: 'a', port: 1 });
		const b = client.open({ kind: 'tcp', host: 'b', port: 1 });
		const warmUp = Buffer.alloc(STREAM_INITIAL_WINDOW_BYTES);
		// Bytes per stream, in runs: a socket's reads cut frames into pieces, so consecutive pieces
		// of one stream are summed.
		const order: string[] = [];
		const runs: { name: string; bytes: number }[] = [];
		for (const [i, name] of ['a', 'b'].entries()) {
			const far = incoming[i]!.stream;
			far.attach({
				onData: (c) => {
					far.setBuffered(0); // a reader that keeps up: credit flows back at once
					const last = runs.at(-1);
					if (last?.name === name) {
						last.bytes += c.byteLength;
					} else {
						runs.push({ name, bytes: c.byteLength });
					}
				},
				onEnd: () => undefined,
				onReset: () => undefined,
				onDrain: () => undefined,
			});
		}
		// Both readers keep up, so both streams have a full window of credit before the test starts.
		a.write(warmUp);
		b.write(warmUp);
		runs.length = 0;
		clientEnd.congested = true;
		a.write(Buffer.alloc(100 * 1024)); // straight into the "socket": now past the high-water mark
		a.write(Buffer.alloc(128 * 1024)); // from here on, data waits its turn
		b.write(Buffer.alloc(128 * 1024));
		client.sendRpc(Buffer.from('{"urgent":1}'));
		assert.equal(
			clientEnd.held.length,
			2,
			'the first frame and the RPC went into the socket; the rest waits',
		);
		clientEnd.drain();
		assert.equal(rpc[0], 'agent:{"urgent":1}');
		order.push(...runs.map((r) => `${r.name}${r.bytes}`));
		// a's first frame and its first waiting turn are adjacent, so they form one run.
		assert.deepEqual(order, ['a167936', 'b65536', 'a65536', 'b65536']);
	});

	it('resets a stream whose peer sends past its window', () => {
		const { agentEnd, client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const far = collector(incoming[0]!.stream, { hold: true });
		const near = collector(stream);
		// Forge an oversized Data frame from the client side, past any window the reader could grant.
		const frame = Buffer.alloc(5 + STREAM_WINDOW_BYTES + 1);
		frame[0] = 3;
		frame.writeUInt32BE(stream.id, 1);
		agentEnd.peer.channel.send(frame);
		assert.equal(far.state.reset?.code, ResetCode.ProtocolError);
		assert.match(far.state.reset?.reason ?? '', /flow control/);
		assert.equal(near.state.reset?.code, ResetCode.ProtocolError, 'the sender is told, with the code');
		assert.match(near.state.reset?.reason ?? '', /flow control/);
	});

	it('passes a reset, its code and its reason to the other side', () => {
		const { client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const near = collector(stream);
		incoming[0]!.stream.reset(ResetCode.Refused, 'connect ECONNREFUSED 127.0.0.1:5432');
		assert.deepEqual(near.state.reset, {
			code: ResetCode.Refused,
			reason: 'connect ECONNREFUSED 127.0.0.1:5432',
		});
		assert.equal(client.streamCount, 0);
	});

	it('keeps what follows OpenOk in the same read for the handler attached after one that detached on OpenOk', () => {
		for (const then of ['data and end', 'reset'] as const) {
			const { client, incoming, agentEnd } = setup();
			const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
			let opened = false;
			// What a proxy does: wait for OpenOk, answer its client, then attach the bridge.
			stream.attach({
				onData: () => assert.fail('no data before OpenOk'),
				onEnd: () => assert.fail('no End before OpenOk'),
				onReset: () => assert.fail('the reset is for the next handler'),
				onDrain: () => undefined,
				onOpened: () => {
					opened = true;
					stream.detach();
				},
			});
			const far = incoming[0]!.stream;
			agentEnd.congested = true; // OpenOk and what follows arrive in one read
			far.accept();
			if (then === 'reset') {
				far.reset(ResetCode.Closed, 'the target closed');
			} else {
				far.write(Buffer.from('a banner sent at once'));
				far.end();
			}
			agentEnd.drain();
			assert.equal(opened, true);
			const near = collector(stream);
			if (then === 'reset') {
				assert.deepEqual(near.state.reset, { code: ResetCode.Closed, reason: 'the target closed' });
			} else {
				assert.equal(near.text(), 'a banner sent at once');
				assert.equal(near.state.ended, true);
			}
		}
	});

	it('closes the session on a stream id of the wrong side, or a frame shorter than its header', () => {
		const { clientEnd, errors } = setup();
		clientEnd.channel.send(
			Buffer.from([1, 0, 0, 0, 2, ...Buffer.from('{"kind":"tcp","host":"h","port":1}')]),
		);
		clientEnd.channel.send(Buffer.from([3, 0]));
		// (split() delivers these as pieces: the header check must still see the whole frame.)
		assert.equal(errors.length, 2);
		assert.match(errors[0]!, /opened stream 2/);
		assert.match(errors[1]!, /shorter than its header/);
	});

	it('holds streams to their minimum window once the receive budget is spent, and grows them again after', () => {
		const { client, incoming } = setup({ budget: 2 * STREAM_WINDOW_BYTES });
		const chunk = Buffer.alloc(64 * 1024);
		const stalled = [0, 1, 2].map((i) => client.open({ kind: 'tcp', host: 'h', port: i + 1 }));
		const stalledFar = stalled.map((_, i) => collector(incoming[i]!.stream, { hold: true }));
		for (const stream of stalled) {
			for (let i = 0; i < 40; i++) {
				stream.write(chunk);
			}
		}
		const held = stalledFar.reduce((n, r) => n + r.bytes(), 0);
		assert.ok(
			held <= 2 * STREAM_WINDOW_BYTES + 3 * STREAM_MIN_WINDOW_BYTES,
			`three stalled readers hold the budget plus a minimum window each, no more (${held})`,
		);
		const busy = client.open({ kind: 'tcp', host: 'h', port: 9 });
		const busyFar = collector(incoming[3]!.stream);
		for (let i = 0; i < 100; i++) {
			busy.write(chunk);
		}
		assert.equal(busyFar.bytes(), 100 * 64 * 1024, 'a reader that keeps up still gets everything');
		incoming[0]!.stream.setBuffered(0); // one stalled reader catches up: its stream grows again
		assert.ok(stalledFar[0]!.bytes() > STREAM_WINDOW_BYTES, 'and more arrived for it');
	});

	it('never has more unacknowledged than its high-water mark, whatever the streams’ credit', () => {
		const unackedHighWater = 512 * 1024;
		const { clientEnd, client, incoming } = setup({ unackedHighWater });
		clientEnd.holdAcks = true;
		const streams = Array.from({ length: 50 }, (_, i) =>
			client.open({ kind: 'tcp', host: 'h', port: i + 1 }),
		);
		const far = streams.map((_, i) => collector(incoming[i]!.stream));
		const chunk = Buffer.alloc(32 * 1024, 7);
		for (let round = 0; round < 8; round++) {
			for (const stream of streams) {
				stream.write(chunk);
			}
		}
		const sum = (): number => far.reduce((n, r) => n + r.bytes(), 0);
		assert.ok(
			clientEnd.peakUnacked <= unackedHighWater + MUX_MAX_DATA_FRAME_BYTES,
			`unacknowledged stayed under the mark (${clientEnd.peakUnacked})`,
		);
		assert.ok(sum() < 50 * 8 * chunk.length, 'the rest waits for acknowledgements');
		for (let i = 0; i < 100 && sum() < 50 * 8 * chunk.length; i++) {
			clientEnd.acknowledge();
		}
		assert.equal(sum(), 50 * 8 * chunk.length, 'each acknowledgement let more go, until all of it crossed');
		assert.ok(
			clientEnd.peakUnacked <= unackedHighWater + MUX_MAX_DATA_FRAME_BYTES,
			`peak ${clientEnd.peakUnacked}`,
		);
	});

	it('pauses every source with something queued once the session’s queues are full, and restarts each in its turn', () => {
		const queueCap = 256 * 1024;
		const { clientEnd, client, incoming } = setup({ queueCap });
		const streams = Array.from({ length: 40 }, (_, i) =>
			client.open({ kind: 'tcp', host: 'h', port: i + 1 }),
		);
		const far = streams.map((_, i) => collector(incoming[i]!.stream));
		clientEnd.congested = true;
		const paused = new Set<number>();
		const resumed: number[] = [];
		streams.forEach((stream, i) =>
			stream.attach({
				onData: () => undefined,
				onEnd: () => undefined,
				onReset: () => undefined,
				onDrain: () => {
					paused.delete(i);
					resumed.push(i);
				},
			}),
		);
		const chunk = Buffer.alloc(MUX_MAX_READ_BYTES / 2);
		for (const [i, stream] of streams.entries()) {
			// A source writes until told to stop, as a socket's 'data' events would.
			while (!paused.has(i) && stream.pendingBytes < STREAM_INITIAL_WINDOW_BYTES) {
				if (!stream.write(chunk)) {
					paused.add(i);
				}
			}
		}
		assert.ok(client.queuedBytes <= queueCap + 40 * chunk.length, `queued ${client.queuedBytes}`);
		assert.ok(paused.size >= 30, 'most sources were paused by the cap');
		const pausedByCap = [...paused];
		clientEnd.drain();
		assert.deepEqual(
			pausedByCap.filter((i) => !resumed.includes(i)),
			[],
			'once the queues emptied, every paused source was restarted: none is left behind',
		);
		assert.ok(
			far.every((r) => r.bytes() > 0),
			'and every stream delivered',
		);
	});

	it('sends nothing while detached, and everything once attached again', () => {
		const { clientEnd, client, incoming } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		const far = collector(incoming[0]!.stream);
		clientEnd.detached = true;
		stream.write(Buffer.from('during'));
		assert.equal(far.bytes(), 0);
		assert.equal(stream.pendingBytes, 6, 'the data waits in the stream, not in a replay queue');
		clientEnd.drain();
		assert.equal(far.text(), 'during');
	});

	it('writes nothing once disposed, even from a source that goes on writing', () => {
		const { clientEnd, client } = setup();
		const stream = client.open({ kind: 'tcp', host: 'h', port: 1 });
		client.dispose();
		const sent = clientEnd.sent.length;
		assert.equal(stream.write(Buffer.from('late')), false);
		client.sendRpc(Buffer.from('{}'));
		assert.equal(clientEnd.sent.length, sent);
		assert.throws(() => client.open({ kind: 'tcp', host: 'h', port: 1 }), /closed/);
	});

	it('ends every stream, with a reason, when the session goes', () => {
		const { client } = setup();
		const near = collector(client.open({ kind: 'tcp', host: 'h', port: 1 }));
		client.dispose();
		assert.deepEqual(near.state.reset, { code: ResetCode.SessionClosed, reason: 'the session closed' });
	});
});
