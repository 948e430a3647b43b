import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentClientInfo, ForwardInfo } from '../../../protocol/rpc';
import {
	describeTunnelClient,
	formatDuration,
	groupTunnelClients,
} from '../../../extension/agent/tunnel-clients';

const MINUTE = 60_000;
const OWN = 'me@here (VS Code, window 1a2b)';

function client(overrides: Partial<AgentClientInfo> & Pick<AgentClientInfo, 'id'>): AgentClientInfo {
	return {
		kind: 'streams',
		address: '10.0.0.5:51234',
		since: 0,
		forwards: [],
		streams: 0,
		isSelf: false,
		...overrides,
	};
}

const reverse: ForwardInfo = {
	id: 'r1',
	direction: 'remote',
	bindHost: '127.0.0.1',
	bindPort: 9000,
	targetHost: 'localhost',
	targetPort: 3000,
	state: 'active',
	counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
};

describe('groupTunnelClients', () => {
	it('leaves out this window, and makes one client of a named peer’s sessions', () => {
		const groups = groupTunnelClients(
			[
				// This window: the session that asks, and a shared-network port's.
				client({ id: 'self', isSelf: true, name: OWN }),
				client({ id: 'own-shared-port', name: OWN }),
				// A peer of an older version (a Management session beside its stream session).
				client({ id: 'a1', kind: 'management', name: 'alice', address: '10.0.0.5:1', since: 2 * MINUTE }),
				client({
					id: 'a2',
					name: 'alice',
					address: '10.0.0.5:2',
					since: 1 * MINUTE,
					streams: 2,
					forwards: [reverse],
				}),
				client({ id: 'anon', address: '10.0.0.9:7', since: 3 * MINUTE, streams: 1 }),
				client({ id: 'alice-elsewhere', name: 'alice', address: '10.0.0.6:1', since: 4 * MINUTE }),
			],
			OWN,
		);
		assert.deepEqual(
			groups.map((g) => [g.name, g.address, g.sessionIds, g.streams, g.forwards.length]),
			[
				['alice', '10.0.0.5:2', ['a1', 'a2'], 2, 1],
				[undefined, '10.0.0.9:7', ['anon'], 1, 0],
				['alice', '10.0.0.6:1', ['alice-elsewhere'], 0, 0],
			],
		);
	});

	it('keeps IPv6 peers of one name and host together', () => {
		const groups = groupTunnelClients(
			[
				client({ id: 'x', name: 'bob', address: '[::1]:5000' }),
				client({ id: 'y', name: 'bob', address: '[::1]:5001' }),
			],
			OWN,
		);
		assert.equal(groups.length, 1);
	});
});

describe('describeTunnelClient', () => {
	it('says who, from where, since when and what it forwards', () => {
		const [group] = groupTunnelClients(
			[client({ id: 'a', name: 'alice@laptop (VS Code)', since: 0, streams: 2, forwards: [reverse] })],
			OWN,
		);
		assert.deepEqual(describeTunnelClient(group!, 12 * MINUTE), {
			label: 'alice@laptop (VS Code)',
			description: 'from 10.0.0.5:51234',
			detail: 'connected for 12 min · forwards 9000 → its localhost:3000 · 2 connections open',
		});
	});

	it('names an unnamed client by its address', () => {
		const [group] = groupTunnelClients([client({ id: 'a', streams: 1 })], OWN);
		const text = describeTunnelClient(group!, 5_000);
		assert.equal(text.label, '10.0.0.5:51234');
		assert.equal(text.description, '');
		assert.equal(text.detail, 'connected for 5 s · 1 connection open');
	});
});

describe('formatDuration', () => {
	it('rounds to the unit that matters', () => {
		assert.equal(formatDuration(44_600), '45 s');
		assert.equal(formatDuration(59 * MINUTE), '59 min');
		assert.equal(formatDuration(3 * 60 * MINUTE), '3 h');
		assert.equal(formatDuration(3 * 24 * 60 * MINUTE), '3 days');
		assert.equal(formatDuration(-5), '0 s');
	});
});
