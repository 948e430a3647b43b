import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentClients, type ClientSession } from '../../../server/agent-clients';
import { parseClientName, parseDeclaredListeners } from '../../../server/management/agent-methods';
import type { ForwardInfo } from '../../../protocol/rpc';

const FORWARD: ForwardInfo = {
	id: 'r1',
	direction: 'remote',
	bindHost: '127.0.0.1',
	bindPort: 9000,
	targetHost: 'localhost',
	targetPort: 3000,
	state: 'active',
	counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
};

type TestSession = ClientSession & { ended: boolean; cutReason?: string };

function session(id: string, overrides: Partial<ClientSession> = {}): TestSession {
	const s: TestSession = {
		id,
		kind: 'streams' as const,
		since: 1_700_000_000_000,
		address: () => '127.0.0.1:50000',
		isConnected: (): boolean => !s.ended,
		forwards: () => [],
		streams: () => 2,
		ended: false,
		principal: { role: 'owner' },
		disconnect: () => {
			s.ended = true;
		},
		cut: (reason) => {
			s.ended = true;
			s.cutReason = reason;
		},
		...overrides,
	};
	return s;
}

describe('AgentClients', () => {
	it('lists connected clients with their names and forwards, and marks the one asking', () => {
		const clients = new AgentClients();
		const a = clients.add(session('streams#1', { forwards: () => [FORWARD] }));
		clients.add(session('session#2', { kind: 'management', isConnected: () => false }));
		clients.add(session('session#3', { kind: 'management', streams: () => 0 }));
		a.setName('berth forward on laptop');
		assert.deepEqual(clients.list('session#3'), [
			{
				id: 'streams#1',
				kind: 'streams',
				address: '127.0.0.1:50000',
				name: 'berth forward on laptop',
				since: 1_700_000_000_000,
				forwards: [FORWARD],
				streams: 2,
				isSelf: false,
			},
			{
				id: 'session#3',
				kind: 'management',
				address: '127.0.0.1:50000',
				since: 1_700_000_000_000,
				forwards: [],
				streams: 0,
				isSelf: true,
			},
		]);
		a.dispose();
		assert.deepEqual(
			clients.list('session#3').map((c) => c.id),
			['session#3'],
			'a session leaves with its handle',
		);
		clients.dispose();
	});

	it('disconnects another client, but not an unknown one or the one asking', () => {
		const clients = new AgentClients();
		const other = session('streams#1');
		clients.add(other);
		clients.add(session('streams#2'));
		assert.throws(() => clients.disconnect('streams#9', 'streams#2'), { code: 'BERTH_ERR_USAGE' });
		assert.throws(() => clients.disconnect('streams#2', 'streams#2'), /the session asking/);
		clients.disconnect('streams#1', 'streams#2');
		assert.equal(other.ended, true);
		clients.dispose();
	});

	it('keeps the union of declared listeners, and forgets a session’s with the session', () => {
		const clients = new AgentClients();
		let changes = 0;
		clients.onDidChangeListeners(() => changes++);
		const a = clients.add(session('streams#1'));
		const b = clients.add(session('session#2'));
		a.declareListeners([{ host: '127.0.0.1', port: 40677 }]);
		b.declareListeners([
			{ host: '127.0.0.1', port: 40677 },
			{ host: '::1', port: 40678 },
		]);
		assert.equal(clients.isDeclared({ host: '127.0.0.1', port: 40677 }), true);
		assert.equal(clients.isDeclared({ host: '::1', port: 40678 }), true);
		assert.equal(clients.isDeclared({ host: '::1', port: 40677 }), false, 'host and port both count');
		assert.equal(changes, 2);
		b.dispose();
		assert.equal(clients.isDeclared({ host: '::1', port: 40678 }), false);
		assert.equal(clients.isDeclared({ host: '127.0.0.1', port: 40677 }), true, 'still a’s');
		a.declareListeners([{ host: '127.0.0.1', port: 40677 }]);
		assert.equal(changes, 3, 'the same set again changes nothing');
		clients.dispose();
	});

	it("cuts every session of one token, waiting ones too, and shows each user's email", () => {
		const clients = new AgentClients();
		const user = (tokenId: string, email: string) => ({
			role: 'user' as const,
			user: { userId: email, email, tokenId, role: 'client' as const, expiresAt: Infinity },
		});
		const alice1 = session('streams#1', { principal: user('t-alice', 'alice@example.com') });
		const alice2 = session('session#2', {
			principal: user('t-alice', 'alice@example.com'),
			kind: 'management',
		});
		alice2.ended = true; // waiting in its grace: not listed, but still cut
		const bob = session('streams#3', { principal: user('t-bob', 'bob@example.com') });
		const owner = session('streams#4');
		for (const s of [alice1, alice2, bob, owner]) {
			clients.add(s);
		}
		assert.deepEqual(
			clients.list('').map((c) => [c.id, c.user]),
			[
				['streams#1', 'alice@example.com'],
				['streams#3', 'bob@example.com'],
				['streams#4', undefined],
			],
		);
		const cut = clients.cut(
			(p) => p.role === 'user' && p.user.tokenId === 't-alice',
			'the token was revoked',
		);
		assert.equal(cut, 2);
		assert.equal(alice1.cutReason, 'the token was revoked');
		assert.equal(alice2.cutReason, 'the token was revoked');
		assert.equal(bob.cutReason, undefined);
		assert.equal(owner.cutReason, undefined);
	});
});

describe('client method params', () => {
	it('reads a hello name: trimmed, control characters replaced, bounded, not empty', () => {
		assert.equal(parseClientName({ name: '  alice@laptop (VS Code) ' }), 'alice@laptop (VS Code)');
		assert.equal(parseClientName({ name: 'a\u001b[31mb' }), 'a [31mb');
		assert.equal(parseClientName({ name: 'x'.repeat(500) }).length, 128);
		assert.throws(() => parseClientName({ name: ' \n ' }), { code: 'BERTH_ERR_USAGE' });
		assert.throws(() => parseClientName({}), { code: 'BERTH_ERR_USAGE' });
	});

	it('reads declared listeners, and refuses bad ones or too many', () => {
		assert.deepEqual(parseDeclaredListeners({ listeners: [{ host: '::1', port: 1, extra: true }] }), [
			{ host: '::1', port: 1 },
		]);
		assert.throws(() => parseDeclaredListeners({ listeners: [{ host: '::1', port: 0 }] }), {
			code: 'BERTH_ERR_USAGE',
		});
		assert.throws(() => parseDeclaredListeners({ listeners: 'all' }), { code: 'BERTH_ERR_USAGE' });
		const many = Array.from({ length: 1_025 }, (_, i) => ({ host: '127.0.0.1', port: i + 1 }));
		assert.throws(() => parseDeclaredListeners({ listeners: many }), { code: 'BERTH_ERR_LIMIT' });
	});
});
