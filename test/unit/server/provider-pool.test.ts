import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { Emitter } from '../../../protocol/lifecycle';
import { Mux } from '../../../protocol/mux';
import { ResetCode, type OpenTarget } from '../../../protocol/mux-frames';
import { PROVIDER_WAIT_MS, ProviderPool } from '../../../server/forward/provider-pool';
import { createNullLogger } from '../../../server/shared/log';
import type { ProxyOpenResult } from '../../../server/shared/proxy/proxy-route';
import { channelPair } from '../../helpers/channel-pair';
import { ManualTimers } from '../../helpers/manual-timers';

const TARGET = { kind: 'tcp', host: 'db', port: 5432 } as const;

/**
 * A provider's session: the agent's Mux (which opens streams towards it) joined in memory to the
 * provider's Mux, whose onOpen answers as `berth client -r` would: accept, or refuse the target.
 * (The answer comes a turn later, as over a socket: a Reset delivered synchronously inside
 * `mux.open()` closes the stream before awaitOpen attaches, and its code is lost.)
 */
function provider(answer: 'accept' | 'refuse' = 'accept') {
	const [agentEnd, providerEnd] = channelPair();
	const opened: OpenTarget[] = [];
	const agentMux = new Mux({
		channel: agentEnd.channel,
		role: 'agent',
		onOpen: (stream) => stream.reset(ResetCode.Rejected, 'no'),
		onRpc: () => undefined,
		onProtocolError: (m) => assert.fail(m),
	});
	new Mux({
		channel: providerEnd.channel,
		role: 'client',
		onOpen: (stream, target) => {
			opened.push(target);
			// After its connect attempt, as a real provider answers: never within the Open's send.
			queueMicrotask(() => {
				if (answer === 'accept') {
					stream.accept();
				} else {
					stream.reset(ResetCode.Refused, 'connect ECONNREFUSED');
				}
			});
		},
		onRpc: () => undefined,
		onProtocolError: (m) => assert.fail(m),
	});
	return { mux: agentMux, opened };
}

function setup() {
	const timers = new ManualTimers();
	const pool = new ProviderPool(timers, createNullLogger());
	return { timers, pool };
}

/** Lets settled promises run their callbacks (the channel pair answers synchronously). */
function settle(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}

/** A promise's outcome so far, without waiting for it (undefined while it is pending). */
function track(promise: Promise<ProxyOpenResult>): () => ProxyOpenResult | undefined {
	let result: ProxyOpenResult | undefined;
	void promise.then((settled) => (result = settled));
	return () => result;
}

describe('ProviderPool', () => {
	it('hands connections to its providers in turn', async () => {
		const { pool } = setup();
		const a = provider();
		const b = provider();
		pool.add({ name: 'a' }, a.mux, 's1');
		pool.add({ name: 'b' }, b.mux, 's2');
		const order: string[] = [];
		for (let i = 0; i < 4; i++) {
			const before = a.opened.length;
			assert.equal((await pool.openTarget(TARGET, {})).ok, true);
			order.push(a.opened.length > before ? 'a' : 'b');
		}
		assert.equal(a.opened.length + b.opened.length, 4, 'one open per connection');
		assert.deepEqual(order, ['a', 'b', 'a', 'b']);
		assert.deepEqual(a.opened[0], TARGET, 'the provider is asked for the target itself');
	});

	it('gives a provider whose session waits to be resumed no new connection until it is back', async () => {
		const { pool } = setup();
		const a = provider();
		const b = provider();
		const changed = new Emitter<void>();
		const aSession = { isConnected: false, onDidChangeConnection: changed.event };
		pool.add({ name: 'a' }, a.mux, 's1', aSession);
		pool.add({ name: 'b' }, b.mux, 's2');
		for (let i = 0; i < 3; i++) {
			assert.equal((await pool.openTarget(TARGET, {})).ok, true);
		}
		assert.equal(a.opened.length, 0, 'the waiting provider got nothing');
		assert.equal(b.opened.length, 3);
		assert.deepEqual(
			pool.list().map((p) => p.name),
			['b'],
			'the status lists connected providers only',
		);
		const viaA = track(pool.openTarget(TARGET, { via: 'a' }));
		await settle();
		assert.equal(viaA(), undefined, 'a connection for it waits');
		assert.equal(a.opened.length, 0);
		aSession.isConnected = true;
		changed.fire();
		await settle();
		assert.equal(viaA()?.ok, true, 'and goes through once it is back');
		assert.equal(a.opened.length, 1);
	});

	it('sends a connection with `via` to the provider of that name only', async () => {
		const { pool } = setup();
		const a = provider();
		const b = provider();
		pool.add({ name: 'a' }, a.mux, 's1');
		pool.add({ name: 'b' }, b.mux, 's2');
		for (let i = 0; i < 3; i++) {
			assert.equal((await pool.openTarget(TARGET, { via: 'b' })).ok, true);
		}
		assert.equal(a.opened.length, 0);
		assert.equal(b.opened.length, 3);
		assert.deepEqual(b.opened[0], TARGET, 'via is the agent’s business: the provider is not told');
	});

	it('passes on a provider’s refusal with its code', async () => {
		const { pool } = setup();
		pool.add({ name: 'a' }, provider('refuse').mux, 's1');
		const result = await pool.openTarget(TARGET, {});
		assert.deepEqual(result, { ok: false, code: ResetCode.Refused, reason: 'connect ECONNREFUSED' });
	});

	it('waits PROVIDER_WAIT_MS for a provider, then fails as unreachable, naming the wait', async () => {
		const { pool, timers } = setup();
		const waiting = track(pool.openTarget(TARGET, {}));
		timers.advance(PROVIDER_WAIT_MS - 1);
		await settle();
		assert.equal(waiting(), undefined, 'still waiting just before the deadline');
		timers.advance(1);
		await settle();
		const result = waiting();
		assert.ok(result && !result.ok);
		assert.equal(result.code, ResetCode.Unreachable);
		assert.match(result.reason, /no provider is connected \(waited 10 s\)/);
		assert.equal(timers.pending, 0);
	});

	it('names the missing provider when a `via` waited in vain', async () => {
		const { pool, timers } = setup();
		pool.add({ name: 'y' }, provider().mux, 's1');
		const waiting = pool.openTarget(TARGET, { via: 'x' });
		timers.advance(PROVIDER_WAIT_MS);
		const result = await waiting;
		assert.ok(!result.ok);
		assert.equal(result.code, ResetCode.Unreachable);
		assert.match(result.reason, /no provider named x is connected \(waited 10 s\)/);
	});

	it('serves a waiting connection with a provider that joins meanwhile', async () => {
		const { pool, timers } = setup();
		const waiting = track(pool.openTarget(TARGET, {}));
		timers.advance(PROVIDER_WAIT_MS / 2);
		const a = provider();
		pool.add({ name: 'a' }, a.mux, 's1');
		await settle();
		assert.equal(waiting()?.ok, true);
		assert.equal(a.opened.length, 1);
		assert.equal(timers.pending, 0, 'the wait’s timer is cancelled');
	});

	it('does not serve a waiter for `via: x` with provider y', async () => {
		const { pool } = setup();
		const waiting = track(pool.openTarget(TARGET, { via: 'x' }));
		const y = provider();
		pool.add({ name: 'y' }, y.mux, 's1');
		await settle();
		assert.equal(waiting(), undefined, 'y is not x');
		assert.equal(y.opened.length, 0);
		const x = provider();
		pool.add({ name: 'x' }, x.mux, 's2');
		await settle();
		assert.equal(waiting()?.ok, true);
		assert.equal(x.opened.length, 1);
		assert.equal(y.opened.length, 0);
	});

	it('gives a provider that left no new connections', async () => {
		const { pool } = setup();
		const a = provider();
		const b = provider();
		const membership = pool.add({ name: 'a' }, a.mux, 's1');
		pool.add({ name: 'b' }, b.mux, 's2');
		membership.dispose();
		assert.deepEqual(pool.list(), [{ name: 'b', session: 's2' }]);
		for (let i = 0; i < 3; i++) {
			assert.equal((await pool.openTarget(TARGET, {})).ok, true);
		}
		assert.equal(a.opened.length, 0);
		assert.equal(b.opened.length, 3);
	});

	it('makes a `via` for a provider that left wait rather than reach it', async () => {
		const { pool, timers } = setup();
		const a = provider();
		pool.add({ name: 'a' }, a.mux, 's1').dispose();
		const waiting = track(pool.openTarget(TARGET, { via: 'a' }));
		await settle();
		assert.equal(waiting(), undefined);
		timers.advance(PROVIDER_WAIT_MS);
		await settle();
		assert.equal(waiting()?.ok, false);
		assert.equal(a.opened.length, 0);
	});

	it('accepts provider names of letters, digits, . and _ up to 64, and names the nameless by session', () => {
		const { pool } = setup();
		for (const name of ['a', 'eu.west_2', 'A9', 'n'.repeat(64)]) {
			pool.add({ name }, provider().mux, `s-${name}`);
		}
		pool.add({}, provider().mux, 'session-7');
		pool.add(undefined, provider().mux, 'session-8');
		assert.deepEqual(
			pool.list().map((p) => p.name),
			['a', 'eu.west_2', 'A9', 'n'.repeat(64), 'session-7', 'session-8'],
		);
	});

	it('refuses other provider names (a - would split a via label)', () => {
		const { pool } = setup();
		for (const name of ['a-b', '', 'n'.repeat(65), 'a b', 'a/b', 'é', 42, null]) {
			assert.throws(
				() => pool.add({ name }, provider().mux, 's1'),
				(error: unknown) => error instanceof BerthError && error.code === 'BERTH_ERR_USAGE',
				`name ${JSON.stringify(name)}`,
			);
		}
		assert.equal(pool.size, 0, 'a refused name adds nothing');
	});

	it('fails waiting connections when it is disposed, and new ones at once', async () => {
		const { pool, timers } = setup();
		const waiting = track(pool.openTarget(TARGET, {}));
		const waitingVia = track(pool.openTarget(TARGET, { via: 'x' }));
		pool.dispose();
		await settle();
		for (const outcome of [waiting, waitingVia]) {
			const result = outcome();
			assert.ok(result && !result.ok);
			assert.equal(result.code, ResetCode.Unreachable);
		}
		assert.equal(timers.pending, 0, 'no timer outlives the pool');
		const late = track(pool.openTarget(TARGET, {}));
		await settle();
		assert.equal(late()?.ok, false, 'no wait after dispose');
	});
});
