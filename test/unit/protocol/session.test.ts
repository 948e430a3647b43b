import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageReader } from '../../../protocol/message-reader';
import type { ErrorCode } from '../../../protocol/errors';
import { setUnexpectedErrorHandler } from '../../../protocol/lifecycle';
import { Session } from '../../../protocol/session';
import { encodeMessage, MessageType, type WireMessage } from '../../../protocol/wire';
import { ManualTimers } from '../../helpers/manual-timers';
import { createTransportPair } from '../../helpers/memory-transport';

const text = (s: string) => Buffer.from(s);
const str = (segments: readonly Uint8Array[]) =>
	Buffer.concat(segments.map((s) => Buffer.from(s))).toString();

/** Two sessions joined by an in-memory pair; collects what each delivers. */
function pair(options: { maxUnackedBytes?: number } = {}) {
	const timers = new ManualTimers();
	const a = new Session({ timers, ...options });
	const b = new Session({ timers, ...options });
	const gotA: string[] = [];
	const gotB: string[] = [];
	a.onDidReceiveMessage((m) => gotA.push(str(m)));
	b.onDidReceiveMessage((m) => gotB.push(str(m)));
	const connect = () => {
		const [ta, tb] = createTransportPair();
		a.attach(ta);
		b.attach(tb);
		return [ta, tb] as const;
	};
	const wires = connect();
	return { timers, a, b, gotA, gotB, wires, connect };
}

/** Every message one transport end wrote, parsed. */
function parse(chunks: readonly Uint8Array[]): WireMessage[] {
	const reader = new MessageReader();
	const out: WireMessage[] = [];
	for (const c of chunks) {
		reader.feed(c);
		for (let m = reader.read(); m; m = reader.read()) {
			out.push(m);
		}
	}
	return out;
}

describe('Session', () => {
	it('delivers Regular messages in order, exactly once', () => {
		const { a, gotB } = pair();
		a.send(text('one'));
		a.send([text('tw'), text('o')]);
		assert.deepEqual(gotB, ['one', 'two']);
	});

	it('numbers Regular messages from 1 and acknowledges the highest in-order id', () => {
		const { a, b, wires } = pair();
		a.send(text('x'));
		a.send(text('y'));
		b.send(text('z'));
		const fromB = parse(wires[1].written).filter((m) => m.type === MessageType.Regular);
		const fromA = parse(wires[0].written).filter((m) => m.type === MessageType.Regular);
		assert.deepEqual(
			fromA.map((m) => m.id),
			[1, 2],
		);
		assert.equal(fromB[0]!.ack, 2, 'b acknowledges both of a’s messages');
		assert.equal(a.unackedBytes, 0, 'a dropped them from its replay queue');
	});

	it('sends an explicit Ack 2 s after a Regular when nothing else went out', () => {
		const { a, timers, wires } = pair();
		a.send(text('x'));
		timers.advance(1999);
		assert.equal(parse(wires[1].written).filter((m) => m.type === MessageType.Ack && m.ack === 1).length, 0);
		timers.advance(1);
		assert.equal(parse(wires[1].written).filter((m) => m.type === MessageType.Ack && m.ack === 1).length, 1);
		assert.equal(a.unackedBytes, 0);
	});

	it('acknowledges at once after 1 MiB arrived unacknowledged, without waiting 2 s', () => {
		const { a, wires } = pair();
		wires[0].written.length = 0;
		const acks = () => parse(wires[1].written).filter((m) => m.type === MessageType.Ack).length;
		const before = acks();
		a.send(new Uint8Array(600 * 1024));
		assert.equal(acks(), before, 'under 1 MiB: the ack waits');
		a.send(new Uint8Array(600 * 1024));
		assert.equal(acks(), before + 1, 'past 1 MiB: an Ack went out');
		assert.equal(a.unackedBytes, 0);
	});

	it('replays unacknowledged messages on a new transport, and drops the ones seen twice', async () => {
		const { a, b, gotB, connect, wires } = pair();
		a.send(text('before'));
		wires[1].hold(); // b stops receiving: the next two are lost with the old socket
		a.send(text('lost-1'));
		a.send(text('lost-2'));
		wires[0].close();
		assert.equal(a.isAttached, false);
		a.send(text('while-down'));
		connect();
		await new Promise(setImmediate); // the new socket delivers what waited in it
		assert.deepEqual(gotB, ['before', 'lost-1', 'lost-2', 'while-down']);
		b.send(text('back'));
		assert.equal(a.unackedBytes, 0);
	});

	it('drops a duplicate id and asks for a replay on a gap (at most once per 10 s)', () => {
		const { b, gotB, wires } = pair();
		const raw = wires[0]; // write raw messages as "a"
		raw.write([encodeMessage(MessageType.Regular, 1, 0, text('one'))]);
		raw.write([encodeMessage(MessageType.Regular, 1, 0, text('one again'))]);
		raw.write([encodeMessage(MessageType.Regular, 3, 0, text('three'))]);
		raw.write([encodeMessage(MessageType.Regular, 4, 0, text('four'))]);
		assert.deepEqual(gotB, ['one']);
		const replays = parse(wires[1].written).filter((m) => m.type === MessageType.ReplayRequest);
		assert.equal(replays.length, 1);
		assert.ok(b.isAttached);
	});

	it('answers a ReplayRequest by resending every unacknowledged message', () => {
		const { a, wires } = pair();
		wires[1].hold();
		a.send(text('p'));
		a.send(text('q'));
		const before = parse(wires[0].written).filter((m) => m.type === MessageType.Regular).length;
		wires[1].write([encodeMessage(MessageType.ReplayRequest, 0, 0)]);
		const after = parse(wires[0].written).filter((m) => m.type === MessageType.Regular);
		assert.equal(after.length - before, 2);
		assert.deepEqual(
			after.slice(-2).map((m) => m.id),
			[1, 2],
		);
	});

	it('sends KeepAlive every 5 s and times out a peer silent for 20 s', () => {
		const { a, timers, wires } = pair();
		const lost: string[] = [];
		a.onDidLoseTransport((e) => lost.push(e.reason));
		wires[0].hold(); // a hears nothing from now on
		timers.advance(5_000);
		assert.equal(parse(wires[0].written).filter((m) => m.type === MessageType.KeepAlive).length, 1);
		timers.advance(14_999);
		assert.deepEqual(lost, []);
		timers.advance(1);
		assert.deepEqual(lost, ['timeout']);
		assert.equal(a.isAttached, false);
	});

	it('keeps an idle session alive as long as KeepAlives flow both ways', () => {
		const { a, b, timers } = pair();
		timers.advance(120_000);
		assert.ok(a.isAttached && b.isAttached);
	});

	it('echoes a latency request as a latency response with the same payload', () => {
		const { wires } = pair();
		wires[0].write([encodeMessage(MessageType.LatencyRequest, 0, 0, Buffer.from([0, 0, 0, 42]))]);
		const reply = parse(wires[1].written).find((m) => m.type === MessageType.LatencyResponse)!;
		assert.deepEqual([...reply.payload], [0, 0, 0, 42]);
	});

	it('holds writes while the peer asked to Pause, and sends them on Resume', () => {
		const { b, gotA, wires } = pair();
		wires[0].write([encodeMessage(MessageType.Pause, 0, 0)]);
		b.send(text('held'));
		b.send(text('and this'));
		assert.deepEqual(gotA, []);
		wires[0].write([encodeMessage(MessageType.Resume, 0, 0)]);
		assert.deepEqual(gotA, ['held', 'and this']);
	});

	it('writes nothing the peer can multiply while it paused us: no echoes, no control, no copies', () => {
		const { b, wires } = pair({ maxUnackedBytes: 64 * 1024 });
		const failures: string[] = [];
		b.onDidFail((e) => failures.push(e.code));
		wires[0].write([encodeMessage(MessageType.Pause, 0, 0)]);
		const before = wires[1].written.length;
		for (let i = 0; i < 10_000; i++) {
			wires[0].write([encodeMessage(MessageType.LatencyRequest, 0, 0, Buffer.alloc(64))]);
		}
		assert.equal(wires[1].written.length, before, 'ten thousand requests, not one byte written');
		for (let i = 0; i < 100 && failures.length === 0; i++) {
			b.send(Buffer.alloc(1024));
		}
		assert.equal(wires[1].written.length, before, 'Regular messages wait in the replay queue, uncopied');
		assert.deepEqual(failures, ['BERTH_ERR_PROTOCOL'], 'past the unacknowledged bound the session fails');
	});

	it('stops echoing latency requests while its answers are not being read', () => {
		const { a, wires } = pair();
		wires[1].hold(); // a's answers pile up unread
		const echoes = () => parse(wires[0].written).filter((m) => m.type === MessageType.LatencyResponse).length;
		for (let i = 0; i < 10_000; i++) {
			wires[1].write([encodeMessage(MessageType.LatencyRequest, 0, 0, Buffer.alloc(1024))]);
		}
		assert.ok(echoes() < 100, `${echoes()} echoes for 10,000 requests`);
		assert.ok(wires[0].bufferedBytes < 128 * 1024, 'the backlog stays small');
		void a;
	});

	it('answers at most one ReplayRequest per 10 s', () => {
		const { a, timers, wires } = pair();
		wires[1].hold();
		a.send(Buffer.alloc(1000));
		const regulars = () => parse(wires[0].written).filter((m) => m.type === MessageType.Regular).length;
		const before = regulars();
		for (let i = 0; i < 1000; i++) {
			wires[1].write([encodeMessage(MessageType.ReplayRequest, 0, 0)]);
		}
		assert.equal(regulars(), before + 1, 'one replay for a thousand requests');
		timers.advance(10_000);
		wires[1].write([encodeMessage(MessageType.ReplayRequest, 0, 0)]);
		assert.equal(regulars(), before + 2);
	});

	it('fails only itself when a listener throws, and says why', () => {
		const { a, b, gotA } = pair();
		const unexpected: unknown[] = [];
		const restore = setUnexpectedErrorHandler((e) => unexpected.push(e));
		try {
			const failures: ErrorCode[] = [];
			b.onDidFail((e) => failures.push(e.code));
			b.onDidReceiveMessage(() => {
				throw new Error('a bug in a handler');
			});
			a.send(text('boom'));
			assert.deepEqual(failures, ['BERTH_ERR_INTERNAL']);
			assert.equal(b.send(text('after')), false, 'a failed session takes no more, and does not throw');
			assert.equal(b.isAttached, false);
			const [c, d] = [
				new Session({ timers: new ManualTimers() }),
				new Session({ timers: new ManualTimers() }),
			];
			const [tc, td] = createTransportPair();
			c.attach(tc);
			d.attach(td);
			const got: string[] = [];
			d.onDidReceiveMessage((m) => got.push(str(m)));
			c.send(text('unharmed'));
			assert.deepEqual(got, ['unharmed'], 'another session goes on');
			assert.deepEqual(unexpected, [], 'nothing escaped to the process');
			c.dispose();
			d.dispose();
			void gotA;
		} finally {
			restore.dispose();
		}
	});

	it('tells its owner when the peer acknowledged', () => {
		const { a, timers } = pair();
		let acks = 0;
		a.onDidAcknowledge(() => acks++);
		a.send(text('x'));
		timers.advance(2_000);
		assert.equal(acks, 1);
		assert.equal(a.unackedBytes, 0);
	});

	it('reports a Disconnect from the peer', () => {
		const { a, b } = pair();
		let disconnected = false;
		b.onDidReceiveDisconnect(() => (disconnected = true));
		a.sendDisconnect();
		assert.ok(disconnected);
	});

	it('declares a transport lost on a message over its bound, without allocating it', () => {
		const { b, wires } = pair();
		const lost: string[] = [];
		b.onDidLoseTransport((e) => lost.push(`${e.reason}: ${e.error?.message}`));
		wires[0].write([Buffer.from('0100000001000000007fffffff', 'hex')]);
		assert.equal(lost.length, 1);
		assert.match(lost[0]!, /^protocol-error: .*over the bound/);
	});

	it('gives up when the peer leaves too much unacknowledged', () => {
		const { a, wires } = pair({ maxUnackedBytes: 1000 });
		const failures: string[] = [];
		a.onDidFail((e) => failures.push(e.message));
		wires[1].hold();
		a.send(new Uint8Array(600));
		assert.deepEqual(failures, []);
		a.send(new Uint8Array(600));
		assert.equal(failures.length, 1);
		assert.match(failures[0]!, /1200 bytes unacknowledged/);
	});

	it('leaves no timer behind once disposed', () => {
		const { a, b, timers } = pair();
		a.send(text('x'));
		a.dispose();
		b.dispose();
		assert.equal(timers.pending, 0);
	});
});
