import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STREAM_INITIAL_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../../../protocol/constants';
import { Emitter } from '../../../protocol/lifecycle';
import { Mux, type MessageChannel } from '../../../protocol/mux';
import type { OpenTarget } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';

/**
 * Two Muxes joined by a channel pair whose "socket" can be congested on demand: while `congested`
 * is set, sent messages are held (as bytes waiting in a socket buffer) and counted in
 * bufferedBytes; `drain()` delivers them and fires onDidDrain.
 */
/** One end of the test channel pair. */
interface ChannelEnd {
	peer: ChannelEnd;
	congested: boolean;
	readonly held: Buffer[];
	readonly sent: Buffer[];
	readonly onMessage: Emitter<readonly Uint8Array[]>;
	readonly channel: MessageChannel;
	drain(): void;
}

function channelPair(): readonly [ChannelEnd, ChannelEnd] {
	const make = (): ChannelEnd => {
		const onMessage = new Emitter<readonly Uint8Array[]>();
		const onDrain = new Emitter<void>();
		const held: Buffer[] = [];
		const end: ChannelEnd = {
			peer: undefined as unknown as ChannelEnd,
			congested: false,
			held,
			sent: [],
			onMessage,
			channel: {
				send(chunks: Uint8Array | readonly Uint8Array[], prefix?: Uint8Array) {
					const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
					const message = Buffer.concat([...(prefix ? [prefix] : []), ...parts].map((c) => Buffer.from(c)));
					end.sent.push(message);
					if (end.congested) {
						held.push(message);
					} else {
						end.peer.onMessage.fire(split(message));
					}
					return !end.congested;
				},
				get bufferedBytes() {
					return held.reduce((n, m) => n + m.byteLength, 0);
				},
				onDidReceiveMessage: onMessage.event,
				onDidDrain: onDrain.event,
			},
			drain() {
				end.congested = false;
				for (const m of held.splice(0)) {
					end.peer.onMessage.fire(split(m));
				}
				onDrain.fire();
			},
		};
		return end;
	};
	const a = make();
	const b = make();
	a.peer = b;
	b.peer = a;
	return [a, b];
}

/**
 * Delivers a message as several segments, the way a socket's reads cut it (here: the header
 * alone is cut in two, and the body in three), so the receiving side's joins are exercised.
 */
function split(message: Buffer): Uint8Array[] {
	const cuts = [3, 7, Math.floor(message.length / 2)].filter((c) => c < message.length);
	const segments: Uint8Array[] = [];
	let at = 0;
	for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
		if (cut > at) {
			segments.push(message.subarray(at, cut));
			at = cut;
		}
	}
	segments.push(message.subarray(at));
	return segments;
}

/** A handler that collects what it gets; `hold: true` reports everything as still buffered (a stalled reader). */
function collector(stream: MuxStream, options: { hold?: boolean } = {}) {
	const got: Buffer[] = [];
	const state = { ended: false, reset: undefined as string | undefined, drains: 0, opened: false };
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

function setup(options: { cap?: number; highWater?: number } = {}) {
	const [clientEnd, agentEnd] = channelPair();
	const incoming: { stream: MuxStream; target: OpenTarget }[] = [];
	const rpc: string[] = [];
	const errors: string[] = [];
	const client = new Mux({
		channel: clientEnd.channel,
		role: 'client',
		onOpen: (stream) => stream.reset('no'),
		onRpc: (b) => rpc.push(`client:${Buffer.from(b).toString()}`),
		onProtocolError: (m) => errors.push(m),
		...(options.highWater !== undefined ? { highWaterBytes: options.highWater } : {}),
	});
	const agent = new Mux({
		channel: agentEnd.channel,
		role: 'agent',
		onOpen: (stream, target) => incoming.push({ stream, target }),
		onRpc: (b) => rpc.push(`agent:${Buffer.from(b).toString()}`),
		onProtocolError: (m) => errors.push(m),
		...(options.cap !== undefined ? { sessionBufferCapBytes: options.cap } : {}),
	});
	return { clientEnd, agentEnd, client, agent, incoming, rpc, errors };
}

describe('Mux', () => {
	it('opens a stream to a target and carries bytes both ways, in order', () => {
		const { client, incoming } = setup();
		const stream = client.open({ host: 'db', port: 5432 });
		stream.write(Buffer.from('hello '));
		assert.deepEqual(incoming[0]!.target, { host: 'db', port: 5432 });
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

	it('half-closes: after End one way, the other way still carries the late reply', () => {
		const { client, incoming } = setup();
		const stream = client.open({ host: 'h', port: 1 });
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
		const stream = client.open({ host: 'h', port: 1 });
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
		const stream = client.open({ host: 'h', port: 1 });
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
		const stalled = client.open({ host: 'slow', port: 1 });
		const busy = client.open({ host: 'fast', port: 2 });
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
		const a = client.open({ host: 'a', port: 1 });
		const b = client.open({ host: 'b', port: 1 });
		// Bytes per stream, in runs: a socket's reads cut frames into pieces, so consecutive pieces
		// of one stream are summed.
		const order: string[] = [];
		const runs: { name: string; bytes: number }[] = [];
		for (const [i, name] of ['a', 'b'].entries()) {
			incoming[i]!.stream.attach({
				onData: (c) => {
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
		const stream = client.open({ host: 'h', port: 1 });
		const far = collector(incoming[0]!.stream, { hold: true });
		const near = collector(stream);
		// Forge an oversized Data frame from the client side, past any window the reader could grant.
		const frame = Buffer.alloc(5 + STREAM_WINDOW_BYTES + 1);
		frame[0] = 3;
		frame.writeUInt32BE(stream.id, 1);
		agentEnd.peer.channel.send(frame);
		assert.match(far.state.reset ?? '', /flow control/);
		assert.match(near.state.reset ?? '', /flow control/);
		void agentEnd;
	});

	it('passes a reset and its reason to the other side', () => {
		const { client, incoming } = setup();
		const stream = client.open({ host: 'h', port: 1 });
		const near = collector(stream);
		incoming[0]!.stream.reset('connect ECONNREFUSED 127.0.0.1:5432');
		assert.equal(near.state.reset, 'connect ECONNREFUSED 127.0.0.1:5432');
		assert.equal(client.streamCount, 0);
	});

	it('closes the session on a stream id of the wrong side, or a frame shorter than its header', () => {
		const { clientEnd, errors } = setup();
		clientEnd.channel.send(Buffer.from([1, 0, 0, 0, 2, ...Buffer.from('{"host":"h","port":1}')]));
		clientEnd.channel.send(Buffer.from([3, 0]));
		// (split() delivers these as pieces: the header check must still see the whole frame.)
		assert.equal(errors.length, 2);
		assert.match(errors[0]!, /opened stream 2/);
		assert.match(errors[1]!, /shorter than its header/);
	});

	it('holds back every grant once the session’s buffered bytes pass the cap', () => {
		const { client, incoming } = setup({ cap: 300 * 1024 });
		const s1 = client.open({ host: 'h', port: 1 });
		const s2 = client.open({ host: 'h', port: 2 });
		collector(s1);
		collector(s2);
		const r1 = collector(incoming[0]!.stream, { hold: true });
		const r2 = collector(incoming[1]!.stream);
		const chunk = Buffer.alloc(64 * 1024);
		for (let i = 0; i < 20; i++) {
			s1.write(chunk);
		}
		assert.ok(r1.bytes() >= 300 * 1024, 's1’s stalled reader now holds more than the cap');
		for (let i = 0; i < 20; i++) {
			s2.write(chunk);
		}
		assert.equal(r2.bytes(), STREAM_INITIAL_WINDOW_BYTES, 's2 got no grant beyond its initial window');
		incoming[0]!.stream.setBuffered(0); // s1’s reader catches up: the session is under the cap again
		assert.ok(r2.bytes() > STREAM_INITIAL_WINDOW_BYTES, 's2 was granted more');
	});

	it('ends every stream, with a reason, when the session goes', () => {
		const { client } = setup();
		const near = collector(client.open({ host: 'h', port: 1 }));
		client.dispose();
		assert.equal(near.state.reset, 'the session closed');
	});
});
