import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findForwardLoop, type ForwardPlaces } from '../../../server/client/forward-loop';
import { OwnForwards } from '../../../server/client/own-forwards';
import {
	isLocalTarget,
	literalAddress,
	remoteLocality,
	type LocalityContext,
} from '../../../server/client/target-locality';

const HERE = 'net-here';
const THERE = 'net-agent';

/** A -L forward: listens here on `port`, leads to host:to on `targetNetwork`. */
function local(port: number, to: number, targetNetwork = HERE, isLocal = true): ForwardPlaces {
	return {
		label: `127.0.0.1:${port} -> 127.0.0.1:${to}`,
		listen: { network: HERE, hosts: ['127.0.0.1'], port },
		target: { network: targetNetwork, host: '127.0.0.1', port: to, isLocal },
	};
}

/** A -R forward: the agent listens on `port`, connections come back here to 127.0.0.1:to. */
function remote(port: number, to: number, agentNetwork = THERE): ForwardPlaces {
	return {
		label: `agent 127.0.0.1:${port} -> 127.0.0.1:${to}`,
		listen: { network: agentNetwork, hosts: ['127.0.0.1'], port },
		target: { network: HERE, host: '127.0.0.1', port: to, isLocal: true },
	};
}

describe('findForwardLoop', () => {
	it('refuses a forward to its own listener on an agent that shares this loopback, in words', () => {
		assert.equal(
			findForwardLoop(local(40677, 40677), []),
			"127.0.0.1:40677 is this forward's own listener: the forward would reach itself",
		);
	});

	it('lets the same spec through on an agent elsewhere (ssh -L 8080:localhost:8080), or to a host that is not local', () => {
		assert.equal(findForwardLoop(local(8080, 8080, THERE), []), undefined);
		assert.equal(findForwardLoop(local(8080, 8080, HERE, false), []), undefined);
	});

	it("refuses a forward to another forward's listener of this client", () => {
		const first = local(4000, 5432);
		assert.match(
			findForwardLoop(local(4001, 4000), [first]) ?? '',
			/^127\.0\.0\.1:4000 is the listener of this client's forward 127\.0\.0\.1:4000 -> 127\.0\.0\.1:5432: /,
		);
	});

	it('refuses a listener where one of this client’s forwards leads', () => {
		const first = local(4000, 4001);
		assert.match(
			findForwardLoop(local(4001, 5432), [first]) ?? '',
			/^port 4001 is where this client's forward/,
		);
	});

	it('sees the loop of a -L and a -R on any agent: each leads to the other’s listener', () => {
		const l = local(4000, 9000, THERE);
		assert.match(findForwardLoop(remote(9000, 4000), [l]) ?? '', /is the listener of|is where/);
		assert.equal(findForwardLoop(remote(9001, 4001), [l]), undefined, 'ports that do not meet');
	});

	it('leaves a listener whose port is not chosen yet for later', () => {
		const first = local(4000, 5000);
		assert.equal(findForwardLoop(remote(0, 7000, HERE), [first]), undefined, 'any port: checked once chosen');
		assert.match(findForwardLoop(remote(5000, 7000, HERE), [first]) ?? '', /^port 5000 is where/);
	});
});

describe('OwnForwards', () => {
	it('records what it checks, refuses a loop with BERTH_ERR_LOOP, and forgets a forward that ended', () => {
		const own = new OwnForwards(HERE);
		let changes = 0;
		own.onDidChange(() => changes++);
		const first = own.reserve(local(4000, 5432));
		assert.throws(() => own.reserve(local(4001, 4000)), { code: 'BERTH_ERR_LOOP' });
		assert.deepEqual([...own.targetedPorts(HERE)], [5432]);
		first.listening(['127.0.0.1', '::1'], 4000);
		assert.deepEqual(own.listenersOn(HERE), [
			{ host: '127.0.0.1', port: 4000 },
			{ host: '::1', port: 4000 },
		]);
		assert.deepEqual(own.listenersOn(THERE), []);
		assert.deepEqual(
			own.withoutOwnListeners(HERE, [
				{ host: '127.0.0.1', port: 4000 },
				{ host: '0.0.0.0', port: 5432 },
			]),
			[{ host: '0.0.0.0', port: 5432 }],
		);
		first.dispose();
		assert.equal(changes, 3);
		own.reserve(local(4001, 4000)).dispose();
		own.dispose();
	});

	it("declares a listener that is not a forward (the window's tunnel access), refuses forwards to it, and forgets it", () => {
		const own = new OwnForwards(HERE);
		const tunnel = own.addListener('tunnel access', ['127.0.0.1'], 8765);
		assert.deepEqual(own.listenersOn(HERE), [{ host: '127.0.0.1', port: 8765 }]);
		assert.deepEqual(own.withoutOwnListeners(HERE, [{ host: '127.0.0.1', port: 8765 }]), []);
		assert.throws(() => own.reserve(local(4000, 8765)), { code: 'BERTH_ERR_LOOP' });
		assert.deepEqual([...own.targetedPorts(HERE)], [], 'it leads nowhere');
		tunnel.dispose();
		assert.deepEqual(own.listenersOn(HERE), []);
		own.reserve(local(4000, 8765)).dispose();
		own.dispose();
	});
});

describe('target locality', () => {
	const here: LocalityContext = {
		names: ['devbox'],
		addresses: ['192.168.1.20', 'fe80::1'],
		lookup: (name) => Promise.resolve(name === 'devbox.lan' ? ['192.168.1.20'] : ['10.0.0.9']),
	};

	it('reads address literals, the short IPv4 forms included', () => {
		assert.equal(literalAddress('127.1'), '127.0.0.1');
		assert.equal(literalAddress('0'), '0.0.0.0');
		assert.equal(literalAddress('0x7f.1'), '127.0.0.1');
		assert.equal(literalAddress('[::1]'), '::1');
		assert.equal(literalAddress('db.internal'), undefined);
		assert.equal(literalAddress('cafe'), undefined);
	});

	const cases: [string, boolean][] = [
		['127.0.0.1', true],
		['127.0.0.2', true],
		['::1', true],
		['::ffff:127.0.0.1', true],
		['0.0.0.0', true],
		['0', true],
		['::', true],
		['192.168.1.20', true],
		['LOCALHOST', true],
		['app.localhost', true],
		['DevBox', true],
		['devbox.lan', true],
		['db.internal', false],
		['192.168.1.21', false],
	];
	for (const [host, expected] of cases) {
		it(`${host} is ${expected ? '' : 'not '}this host`, async () => {
			assert.equal(await isLocalTarget(host, here), expected);
		});
	}

	it('knows another host only by its loopback and the name it reports', async () => {
		const agent = remoteLocality('gpu-box');
		assert.equal(await isLocalTarget('127.0.0.1', agent), true);
		assert.equal(await isLocalTarget('gpu-box', agent), true);
		assert.equal(await isLocalTarget('192.168.1.20', agent), false);
	});
});
