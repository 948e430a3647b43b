import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	EMPTY_SAVED_STATE,
	canonicalLabelKey,
	labelKey,
	parseSavedState,
	portKey,
	withAgent,
	withForward,
	withLabel,
	withProtocol,
	withProxy,
	withReverseForward,
	withoutAgent,
	withoutForward,
	withoutProxy,
	withoutReverseForward,
} from '../../../extension/ports/saved-state';

describe('saved state', () => {
	it('reads what it wrote', () => {
		let state = withAgent(EMPTY_SAVED_STATE, { url: 'ws://a:1', peer: 'berth' });
		state = withForward(state, { agentId: 'ws://a:1', host: 'localhost', port: 3000, localPort: 3000 });
		state = withLabel(state, labelKey('ws://a:1', 'localhost', 3000), ' Web ');
		state = { ...state, tunnelAccess: true };
		assert.deepEqual(parseSavedState(JSON.parse(JSON.stringify(state))), {
			tunnelAccess: true,
			agents: [{ url: 'ws://a:1', peer: 'berth' }],
			forwards: [{ agentId: 'ws://a:1', host: 'localhost', port: 3000, localPort: 3000 }],
			reverseForwards: [],
			proxies: [],
			labels: { 'ws://a:1|3000': 'Web' },
			protocols: {},
		});
	});

	it('starts empty from nothing or garbage, and drops invalid entries', () => {
		assert.deepEqual(parseSavedState(undefined), EMPTY_SAVED_STATE);
		assert.deepEqual(parseSavedState('x'), EMPTY_SAVED_STATE);
		const state = parseSavedState({
			tunnelAccess: 'yes',
			agents: [
				{ url: 'ws://a:1', peer: 'other' },
				{ url: 'ws://b:2', peer: 'vscode' },
			],
			forwards: [
				{ agentId: 'x', host: 'h', port: 0, localPort: 1 },
				{ agentId: 'x', host: 'h', port: 80, localPort: 0 },
			],
			reverseForwards: [
				{ agentId: 'x', bindHost: '127.0.0.1', bindPort: 9000, host: 'localhost', port: 3000 },
				{ agentId: 'x', bindHost: '127.0.0.1', bindPort: 0, host: 'localhost', port: 3000 },
			],
			proxies: [
				{ agentId: 'x', mode: 'socks', port: 1080 },
				{ agentId: 'x', mode: 'relay', port: 1080 },
				{ agentId: 'x', mode: 'share', port: 0 },
				{ agentId: '', mode: 'share', port: 9870 },
				{ agentId: 'x', mode: 'share', port: 9870 },
			],
			labels: { a: 5, 'x|b': 'B', 'x|80': 'Web' },
			protocols: { a: 'ftp', b: 'https' },
		});
		assert.deepEqual(state, {
			tunnelAccess: false,
			agents: [{ url: 'ws://b:2', peer: 'vscode' }],
			forwards: [{ agentId: 'x', host: 'h', port: 80, localPort: 0 }],
			reverseForwards: [
				{ agentId: 'x', bindHost: '127.0.0.1', bindPort: 9000, host: 'localhost', port: 3000 },
			],
			proxies: [
				{ agentId: 'x', mode: 'socks', port: 1080 },
				{ agentId: 'x', mode: 'share', port: 9870 },
			],
			labels: { 'x|80': 'Web' },
			protocols: { b: 'https' },
		});
	});

	it('keeps one entry per forward target and per agent, and removes them', () => {
		let state = withForward(EMPTY_SAVED_STATE, { agentId: 'x', host: 'h', port: 80, localPort: 8080 });
		state = withForward(state, { agentId: 'x', host: 'h', port: 80, localPort: 9090 });
		assert.deepEqual(state.forwards, [{ agentId: 'x', host: 'h', port: 80, localPort: 9090 }]);
		assert.deepEqual(withoutForward(state, { agentId: 'x', host: 'h', port: 80 }).forwards, []);
		state = withAgent(withAgent(state, { url: 'u', peer: 'berth' }), { url: 'u', peer: 'vscode' });
		assert.deepEqual(state.agents, [{ url: 'u', peer: 'vscode' }]);
		assert.deepEqual(withoutAgent(state, 'u').agents, []);
	});

	it('keys labels per agent and port, whichever spelling of the own host reached it', () => {
		const keys = ['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '::', 'LocalHost'].map((host) =>
			labelKey('ws://a:1', host, 3000),
		);
		assert.deepEqual(new Set(keys), new Set(['ws://a:1|3000']));
		assert.equal(labelKey('ws://a:1', 'DB', 5432), 'ws://a:1|db:5432');
		assert.equal(labelKey('ws://a:1', 'fe80::1', 80), 'ws://a:1|[fe80::1]:80');
		assert.notEqual(labelKey('local', 'localhost', 3000), labelKey('ws://a:1', 'localhost', 3000));
	});

	it("moves an older version's labels to today's keys, the first spelling winning", () => {
		const state = parseSavedState({
			labels: {
				'local|localhost:3000': 'Docs server',
				'local|127.0.0.1:3000': 'Other name',
				'local|::1:4000': 'IPv6',
				'ws://a:1|db:5432': 'Database',
				'ws://a:1|8080': 'Already new',
			},
		});
		assert.deepEqual(state.labels, {
			'local|3000': 'Docs server',
			'local|4000': 'IPv6',
			'ws://a:1|db:5432': 'Database',
			'ws://a:1|8080': 'Already new',
		});
		assert.equal(canonicalLabelKey('nobar'), undefined);
		assert.equal(canonicalLabelKey('local|host:99999'), undefined);
		assert.equal(canonicalLabelKey('local|:80'), undefined);
	});

	it('removes a label set to empty', () => {
		const state = withLabel(withLabel(EMPTY_SAVED_STATE, 'k', 'Web'), 'k', '  ');
		assert.deepEqual(state.labels, {});
	});

	it('keeps one reverse forward per agent port, and removes it', () => {
		const forward = { agentId: 'x', bindHost: '127.0.0.1', bindPort: 9000, host: 'localhost', port: 3000 };
		let state = withReverseForward(EMPTY_SAVED_STATE, forward);
		state = withReverseForward(state, { ...forward, port: 4000 });
		assert.deepEqual(state.reverseForwards, [{ ...forward, port: 4000 }]);
		assert.deepEqual(withoutReverseForward(state, { agentId: 'x', bindPort: 9000 }).reverseForwards, []);
	});

	it('keeps one proxy per agent, mode and port, and removes it', () => {
		const socks = { agentId: 'x', mode: 'socks', port: 1080 } as const;
		const share = { agentId: 'x', mode: 'share', port: 1080 } as const;
		let state = withProxy(withProxy(withProxy(EMPTY_SAVED_STATE, socks), share), socks);
		assert.deepEqual(state.proxies, [share, socks]);
		state = withoutProxy(state, socks);
		assert.deepEqual(state.proxies, [share]);
		assert.deepEqual(parseSavedState(JSON.parse(JSON.stringify(state))).proxies, [share]);
	});

	it('keys a port preference by agent and port, whatever the loopback is called', () => {
		assert.equal(portKey('local', 'localhost', 3000), portKey('local', '127.0.0.1', 3000));
		assert.equal(portKey('local', '::1', 3000), 'local|localhost:3000');
		assert.notEqual(portKey('local', 'db', 3000), portKey('local', 'localhost', 3000));
		assert.notEqual(portKey('a', 'localhost', 3000), portKey('b', 'localhost', 3000));
		const state = withProtocol(EMPTY_SAVED_STATE, portKey('a', '127.0.0.1', 443), 'https');
		assert.deepEqual(state.protocols, { 'a|localhost:443': 'https' });
	});
});
