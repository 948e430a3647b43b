import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { FaultProxy, type FaultDirection } from '../helpers/fault-proxy';
import { serve } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';

/**
 * The fault-injecting proxy that the stream-resume tests put between client and agent (issue 13),
 * tested on its own over real sockets: a plain TCP target behind it, a plain client in front.
 * No agent and no dist/ needed.
 */

const MiB = 1024 * 1024;
/** The bulk transfer's size: large enough to go through every buffer on the path many times. */
const BULK_BYTES = 64 * MiB;
/** Bytes that pass through a pipe's buffers at most: its delay queue (1 MiB) and a socket's buffer. */
const PROXY_BUFFER_BOUND = 2 * MiB;
const DELAY_MS = 150;
/** A cut point that falls inside a chunk, not on a boundary. */
const CUT_AT = 300_007;
const SETTLE_MS = 10_000;

/** A socket seen from a test: what it received, and how it closed. */
interface Peer {
	readonly socket: Socket;
	/** Everything received so far. */
	received(): Buffer;
	/** Whether a FIN arrived. */
	readonly ended: boolean;
	/** Resolves at close with the first error's code, or 'end' after a FIN, or 'close'. */
	readonly closedWith: Promise<string>;
	readonly isClosed: boolean;
}

function watch(socket: Socket): Peer {
	const chunks: Buffer[] = [];
	const state = { ended: false, closed: false, error: undefined as string | undefined };
	socket.on('data', (chunk: Buffer) => chunks.push(chunk));
	socket.on('end', () => (state.ended = true));
	socket.on('error', (error: NodeJS.ErrnoException) => (state.error ??= error.code ?? error.message));
	const closedWith = new Promise<string>((resolve) =>
		socket.on('close', () => {
			state.closed = true;
			resolve(state.error ?? (state.ended ? 'end' : 'close'));
		}),
	);
	return {
		socket,
		received: () => Buffer.concat(chunks),
		get ended() {
			return state.ended;
		},
		get isClosed() {
			return state.closed;
		},
		closedWith,
	};
}

/** A target behind a fault proxy; `targets` are the target's ends of its connections, watched. */
async function rig(
	onTarget: (socket: Socket) => void = () => undefined,
): Promise<{ proxy: FaultProxy; targets: Peer[] }> {
	const targets: Peer[] = [];
	const target = await serve((socket) => {
		targets.push(watch(socket));
		onTarget(socket);
	});
	after(() => target.close());
	const proxy = await FaultProxy.start({ targetPort: target.port });
	after(() => proxy.dispose());
	return { proxy, targets };
}

/** A target that echoes every byte back. */
function echo(socket: Socket): void {
	socket.pipe(socket);
}

/** A client through the proxy, connected, watched; closed when the test ends. */
async function dial(proxy: FaultProxy, options: { allowHalfOpen?: boolean } = {}): Promise<Peer> {
	const socket = connect({ port: proxy.port, host: '127.0.0.1', ...options });
	after(() => socket.destroy());
	const peer = watch(socket);
	await within(
		new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
		SETTLE_MS,
		'the client to connect to the proxy',
	);
	return peer;
}

/** Waits until `peer` has received at least `bytes` bytes; returns them all. */
function receivedAtLeast(peer: Peer, bytes: number, what: string): Promise<Buffer> {
	return waitFor(() => {
		const got = peer.received();
		return got.length >= bytes ? got : undefined;
	}, what);
}

/** `total` bytes as views into one random pool (nothing generated per chunk), and their SHA-256. */
function bulk(total: number): { chunks: Buffer[]; sha256: string } {
	const pool = randomBytes(MiB + 64 * 1024);
	const chunks: Buffer[] = [];
	const hash = createHash('sha256');
	for (let sent = 0, i = 0; sent < total; i++) {
		const length = Math.min(64 * 1024, total - sent);
		const offset = (i * 104_729) % MiB;
		const chunk = pool.subarray(offset, offset + length);
		chunks.push(chunk);
		hash.update(chunk);
		sent += length;
	}
	return { chunks, sha256: hash.digest('hex') };
}

/** Writes `chunks` with back-pressure, then ends the socket's writing side. */
function pump(socket: Socket, chunks: readonly Buffer[]): void {
	let next = 0;
	const go = (): void => {
		while (next < chunks.length) {
			if (!socket.write(chunks[next++]!)) {
				socket.once('drain', go);
				return;
			}
		}
		socket.end();
	};
	go();
}

/** Resolves with the SHA-256 and length of everything `socket` receives until its FIN. */
function hashUntilEnd(socket: Socket): Promise<{ sha256: string; bytes: number }> {
	const hash = createHash('sha256');
	let bytes = 0;
	socket.on('data', (chunk: Buffer) => {
		hash.update(chunk);
		bytes += chunk.length;
	});
	return new Promise((resolve, reject) => {
		socket.once('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
		socket.once('error', reject);
	});
}

/** The two ends of one connection through the proxy, once the target has it. */
async function pair(proxy: FaultProxy, targets: Peer[]): Promise<{ client: Peer; target: Peer }> {
	const before = targets.length;
	const client = await dial(proxy);
	const target = await waitFor(() => targets[before], 'the target to accept the proxied connection');
	return { client, target };
}

describe('FaultProxy', () => {
	it('carries 64 MiB both ways byte-exact (SHA-256) and counts the bytes and connections', async () => {
		const { proxy } = await rig(echo);
		const first = proxy.nextConnection();
		const client = connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
		after(() => client.destroy());
		const { chunks, sha256 } = bulk(BULK_BYTES);
		const echoed = hashUntilEnd(client);
		pump(client, chunks);
		const connection = await within(first, SETTLE_MS, 'the proxy to accept');
		assert.equal(connection.id, 1);
		assert.equal(proxy.accepted, 1);
		assert.equal(proxy.open, 1);
		const back = await within(echoed, 120_000, 'the echo of 64 MiB');
		assert.equal(back.bytes, BULK_BYTES);
		assert.equal(back.sha256, sha256, 'the bytes came back changed');
		assert.equal(proxy.bytes('toTarget'), BULK_BYTES);
		assert.equal(proxy.bytes('toClient'), BULK_BYTES);
		assert.equal(proxy.dropped('toTarget') + proxy.dropped('toClient'), 0);
		client.destroy();
		await within(connection.closed, SETTLE_MS, 'the proxied connection to close');
		assert.equal(proxy.open, 0);
		assert.equal(proxy.cuts, 0, 'a plain close is not a cut');
	});

	it('keeps its memory bounded: a target that stops reading stops the proxy reading the client, and the transfer completes once it reads again', async () => {
		const { proxy, targets } = await rig((socket) => socket.pause());
		const client = await dial(proxy);
		const { chunks, sha256 } = bulk(BULK_BYTES);
		pump(client.socket, chunks);
		const connection = await within(proxy.nextConnection(0), SETTLE_MS, 'the proxy to accept');
		await waitFor(() => connection.isPaused('toTarget'), 'the proxy to stop reading the client');
		assert.ok(
			connection.buffered('toTarget') < PROXY_BUFFER_BOUND,
			`the proxy holds ${connection.buffered('toTarget')} bytes`,
		);
		assert.ok(proxy.bytes('toTarget') < BULK_BYTES, 'everything passed: nothing held it back');
		const target = targets[0]!;
		const got = hashUntilEnd(target.socket);
		target.socket.resume();
		const result = await within(got, 120_000, 'the target to receive everything');
		assert.equal(result.bytes, BULK_BYTES);
		assert.equal(result.sha256, sha256);
	});

	it('cut() resets both ends at once (ECONNRESET on each, not a FIN)', async () => {
		const { proxy, targets } = await rig();
		const { client, target } = await pair(proxy, targets);
		client.socket.write('hello');
		await receivedAtLeast(target, 5, 'the target to receive hello');
		proxy.cut();
		assert.equal(await within(client.closedWith, SETTLE_MS, 'the client to close'), 'ECONNRESET');
		assert.equal(await within(target.closedWith, SETTLE_MS, 'the target to close'), 'ECONNRESET');
		assert.equal(proxy.cuts, 1);
		await waitFor(() => proxy.open === 0, 'the proxy to count no open connection');
	});

	it("a connection's own cut() leaves the proxy's other connections carrying", async () => {
		const { proxy, targets } = await rig(echo);
		const doomed = await dial(proxy);
		const kept = await dial(proxy);
		const [first, second] = await Promise.all([proxy.nextConnection(0), proxy.nextConnection(1)]);
		assert.deepEqual([first.id, second.id], [1, 2]);
		await waitFor(() => targets.length === 2, 'the target to accept both');
		first.cut();
		assert.equal(await within(doomed.closedWith, SETTLE_MS, 'the cut client to close'), 'ECONNRESET');
		kept.socket.write('still here');
		assert.equal((await receivedAtLeast(kept, 10, 'the echo on the other')).toString(), 'still here');
		assert.ok(!kept.isClosed);
	});

	for (const [direction, sender, receiver] of [
		['toTarget', 'client', 'target'],
		['toClient', 'target', 'client'],
	] as const) {
		it(`cutDirection('${direction}') drops the bytes going ${direction} and keeps the other direction`, async () => {
			const { proxy, targets } = await rig();
			const ends = await pair(proxy, targets);
			ends.client.socket.write('up');
			await receivedAtLeast(ends.target, 2, 'the path to carry before the cut');
			const [from, to] = [ends[sender], ends[receiver]];
			const [fromBefore, toBefore] = [from.received().length, to.received().length];
			proxy.cutDirection(direction as FaultDirection);
			from.socket.write('lost');
			await waitFor(() => proxy.dropped(direction) === 4, `the proxy to drop 4 bytes ${direction}`);
			to.socket.write('kept');
			const back = await receivedAtLeast(from, fromBefore + 4, 'the other way to carry');
			assert.equal(back.subarray(fromBefore).toString(), 'kept');
			assert.equal(to.received().length, toBefore, `bytes passed ${direction} after the cut`);
			assert.ok(!ends.client.isClosed && !ends.target.isClosed, 'a cut direction closed the connection');
		});
	}

	it('blackhole(true) goes silent without closing and loses what is sent; after it, only later bytes pass', async () => {
		const { proxy, targets } = await rig();
		const { client, target } = await pair(proxy, targets);
		proxy.blackhole(true);
		client.socket.write('lost-up');
		target.socket.write('lost-down');
		await waitFor(
			() => proxy.dropped('toTarget') === 7 && proxy.dropped('toClient') === 9,
			'the proxy to drop the bytes both ways',
		);
		assert.equal(client.received().length + target.received().length, 0, 'bytes passed the black hole');
		assert.ok(!client.isClosed && !target.isClosed && !client.ended && !target.ended, 'the hole closed');
		assert.equal(proxy.open, 1);
		proxy.blackhole(false);
		client.socket.write('up');
		target.socket.write('down');
		assert.equal((await receivedAtLeast(target, 2, 'the target to receive again')).toString(), 'up');
		assert.equal((await receivedAtLeast(client, 4, 'the client to receive again')).toString(), 'down');
	});

	it('a reset sent into a black hole is lost while it lasts, then reaches the other end', async () => {
		const { proxy, targets } = await rig();
		const { client, target } = await pair(proxy, targets);
		const connection = proxy.connections[0]!;
		proxy.blackhole(true);
		client.socket.resetAndDestroy();
		await waitFor(() => connection.hasClosed('client'), "the proxy to see the client's reset");
		// Had the reset passed, the target's bytes would meet a closed socket, not the proxy's reader.
		target.socket.write('probe');
		await waitFor(() => proxy.dropped('toClient') === 5, 'the proxy to drop the probe');
		assert.ok(!target.isClosed, 'the target heard of the reset through the hole');
		proxy.blackhole(false);
		assert.equal(await within(target.closedWith, SETTLE_MS, 'the target to close'), 'ECONNRESET');
	});

	it('bytes for an end that is gone are answered with a reset, as its host would', async () => {
		const { proxy, targets } = await rig();
		const { client, target } = await pair(proxy, targets);
		const connection = proxy.connections[0]!;
		proxy.cutDirection('toTarget');
		client.socket.resetAndDestroy();
		await waitFor(() => connection.hasClosed('client'), "the proxy to see the client's reset");
		assert.ok(!target.isClosed, 'the reset passed a cut direction');
		target.socket.write('anyone there?');
		assert.equal(await within(target.closedWith, SETTLE_MS, 'the target to close'), 'ECONNRESET');
	});

	it('delay(ms) adds at least the delay each way, and a chunk delayed before a change is not overtaken', async () => {
		const { proxy } = await rig(echo);
		const client = await dial(proxy);
		proxy.delay(DELAY_MS);
		const start = performance.now();
		client.socket.write('ping');
		await receivedAtLeast(client, 4, 'the echo');
		const elapsed = performance.now() - start;
		assert.ok(elapsed >= 2 * DELAY_MS, `the round trip took ${elapsed.toFixed(1)} ms`);
		const connection = proxy.connections[0]!;
		proxy.delay(2 * DELAY_MS);
		client.socket.write('first');
		await waitFor(() => connection.buffered('toTarget') === 5, 'the proxy to delay "first"');
		proxy.delay(0);
		client.socket.write('second');
		const got = await receivedAtLeast(client, 4 + 11, 'both echoes');
		assert.equal(got.toString(), 'pingfirstsecond');
	});

	it('cutAfterBytes(n, toTarget) passes exactly n bytes, then resets both ends; the target has a prefix of them', async () => {
		const { proxy, targets } = await rig();
		const cut = proxy.cutAfterBytes(CUT_AT, 'toTarget');
		const { client, target } = await pair(proxy, targets);
		const sent = bulk(4 * MiB).chunks;
		pump(client.socket, sent);
		assert.equal(await within(cut, SETTLE_MS, 'the cut'), true);
		assert.equal(await within(target.closedWith, SETTLE_MS, 'the target to close'), 'ECONNRESET');
		assert.equal(await within(client.closedWith, SETTLE_MS, 'the client to close'), 'ECONNRESET');
		assert.equal(proxy.bytes('toTarget'), CUT_AT);
		// What was in flight at the reset may be lost (as on a real cut); nothing past n passes.
		const got = target.received();
		assert.ok(got.length <= CUT_AT, `the target received ${got.length} bytes`);
		assert.ok(got.equals(Buffer.concat(sent).subarray(0, got.length)), 'the target received other bytes');
		assert.equal(proxy.cuts, 1);
	});

	it('cutAfterBytes(n) counts both directions together, over the connections it spans', async () => {
		const { proxy } = await rig(echo);
		const cut = proxy.cutAfterBytes(CUT_AT);
		const client = await dial(proxy);
		pump(client.socket, bulk(4 * MiB).chunks);
		assert.equal(await within(cut, SETTLE_MS, 'the cut'), true);
		assert.equal(await within(client.closedWith, SETTLE_MS, 'the client to close'), 'ECONNRESET');
		assert.equal(proxy.bytes('toTarget') + proxy.bytes('toClient'), CUT_AT);
		assert.ok(client.received().length <= proxy.bytes('toClient'));
		const next = await dial(proxy);
		next.socket.write('again');
		assert.equal((await receivedAtLeast(next, 5, 'a new connection to work')).toString(), 'again');
	});

	it('refuse(true) resets new connections at accept without reaching the target; refuse(false) carries them again', async () => {
		const { proxy, targets } = await rig(echo);
		proxy.refuse(true);
		const refused = watch(connect({ port: proxy.port, host: '127.0.0.1' }));
		after(() => refused.socket.destroy());
		assert.equal(await within(refused.closedWith, SETTLE_MS, 'the refused client to close'), 'ECONNRESET');
		assert.equal(proxy.refused, 1);
		assert.equal(proxy.accepted, 0);
		proxy.refuse(false);
		const carried = await dial(proxy);
		carried.socket.write('ok');
		assert.equal((await receivedAtLeast(carried, 2, 'the echo')).toString(), 'ok');
		assert.equal(targets.length, 1, 'the refused connection reached the target');
	});

	for (const [name, hold] of [
		['pauseAccepting(true)', (proxy: FaultProxy, on: boolean) => proxy.pauseAccepting(on)],
		['blackhole(true)', (proxy: FaultProxy, on: boolean) => proxy.blackhole(on)],
	] as const) {
		it(`${name} holds new connections undialled with their bytes, and carries them when it ends`, async () => {
			const { proxy, targets } = await rig(echo);
			hold(proxy, true);
			const client = await dial(proxy);
			client.socket.write('early');
			const connection = await within(proxy.nextConnection(0), SETTLE_MS, 'the proxy to accept');
			assert.ok(connection.isHeld, 'the connection was dialled');
			assert.equal(targets.length, 0);
			hold(proxy, false);
			assert.equal((await receivedAtLeast(client, 5, 'the held bytes to pass')).toString(), 'early');
			assert.equal(targets.length, 1);
		});
	}

	it('passes a half-close (FIN) and keeps the other direction open until it closes too', async () => {
		const { proxy, targets } = await rig();
		const before = targets.length;
		const client = await dial(proxy, { allowHalfOpen: true });
		const target = await waitFor(() => targets[before], 'the target to accept');
		client.socket.end();
		await waitFor(() => target.ended, 'the FIN to reach the target');
		target.socket.write('late');
		assert.equal((await receivedAtLeast(client, 4, 'bytes after the FIN')).toString(), 'late');
		target.socket.end();
		assert.equal(await within(client.closedWith, SETTLE_MS, 'the client to close'), 'end');
		await waitFor(() => proxy.open === 0, 'the proxy to count no open connection');
		assert.equal(proxy.cuts, 0);
	});
});
