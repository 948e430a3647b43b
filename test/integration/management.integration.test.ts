import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { AgentConnection, parseAgentUrl, type ConnectionState } from '../../server/client';
import type { AgentEndpoint } from '../../server/client/dial';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { encodeMessage, MessageType } from '../../protocol/wire';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { waitFor } from '../helpers/wait';
import { WireClient } from '../helpers/wire-client';

function endpointFor(
	agent: AgentProcess,
	mode: 'tcp' | 'websocket' = 'tcp',
	token = agent.token,
): AgentEndpoint {
	return { address: parseAgentUrl(agent.url), token, mode, peer: 'berth', timers: createNodeTimers() };
}

describe('Management sessions on the real agent', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	for (const mode of ['tcp', 'websocket'] as const) {
		it(`answers ping and serverInfo over ${mode}`, async () => {
			const { connection, info } = await AgentConnection.connect(endpointFor(agent, mode));
			try {
				const commit = await (await fetch(`http://127.0.0.1:${agent.port}/version`)).text();
				assert.equal(info.commit, commit);
				assert.equal(info.host, hostname());
				assert.equal(info.platform, process.platform);
				assert.match(info.version, /^\d+\.\d+\.\d+/);
				assert.ok(info.uptime >= 0);
				assert.equal(info.reconnectionGraceMs, 10_800_000);
				const before = Date.now();
				const pong = await connection.rpc.request('ping', { sentAt: before });
				assert.ok(pong.receivedAt >= before - 1000 && pong.receivedAt <= Date.now() + 1000);
			} finally {
				connection.close();
			}
		});
	}

	it('counts its clients, and tells every session when the count changes', async () => {
		const { connection, info } = await AgentConnection.connect(endpointFor(agent));
		try {
			const counts: number[] = [];
			connection.rpc.onDidReceiveEvent((e) => {
				if (e.event === 'clientsChanged') {
					counts.push((e.data as { clients: number }).clients);
				}
			});
			const { connection: second } = await AgentConnection.connect(endpointFor(agent));
			await waitFor(() => counts.at(-1) === info.clients + 1, 'clientsChanged for the second client');
			second.close();
			await waitFor(() => counts.at(-1) === info.clients, 'clientsChanged when it leaves');
			assert.ok(info.clients >= 1, 'a session counts itself');
		} finally {
			connection.close();
		}
	});

	it('refuses a client whose token is wrong, and says so permanently', async () => {
		await assert.rejects(AgentConnection.connect(endpointFor(agent, 'tcp', 'wrong')), {
			code: 'BERTH_ERR_HANDSHAKE_REFUSED',
			reason: 'Unauthorized client refused: auth mismatch',
			message: /^Connection error: Unauthorized client refused: auth mismatch \(a wrong token/,
		});
	});

	it('refuses to talk to an agent that cannot prove it knows the token', async () => {
		const noToken = await startAgent({ token: null });
		try {
			await assert.rejects(AgentConnection.connect(endpointFor(noToken, 'tcp', 'some-token')), {
				code: 'BERTH_ERR_SERVER_UNVERIFIED',
				message: /Refused to connect to unsupported server/,
			});
		} finally {
			await noToken.stop();
		}
	});

	it('survives a dropped socket: reconnects with the same token, and a request made meanwhile is answered once', async () => {
		const { connection } = await AgentConnection.connect(endpointFor(agent));
		try {
			const states: ConnectionState['type'][] = [];
			connection.onDidChangeState((s) => states.push(s.type));
			connection.dropTransport();
			const pending = connection.rpc.request('ping', {}); // queued while down, replayed after
			await waitFor(() => states.includes('connected'), 'the reconnection', 10_000);
			assert.deepEqual(states.slice(0, 2), ['reconnecting', 'connected']);
			assert.ok((await pending).receivedAt > 0);
			await agent.waitForLog(/type=Management .*outcome=accepted detail="session#\d+ resumed"/);
		} finally {
			connection.close();
		}
	});

	it('sends KeepAlive every 5 s, and echoes latency probes', async () => {
		const client = await WireClient.raw(agent.port);
		assert.deepEqual((await client.handshake({ token: agent.token, connectionType: 1 })).reply, {
			type: 'ok',
		});
		const started = Date.now();
		await client.next((m) => m.type === MessageType.KeepAlive, 7_000);
		const elapsed = Date.now() - started;
		assert.ok(elapsed > 3_000 && elapsed < 7_000, `first KeepAlive after ${elapsed} ms`);
		client.sendMessage(MessageType.LatencyRequest, 0, 0, Buffer.from([1, 2, 3, 4]));
		const echo = await client.next((m) => m.type === MessageType.LatencyResponse);
		assert.deepEqual([...echo.payload], [1, 2, 3, 4]);
		client.destroy();
	});

	it('times out a peer that stays silent for 20 s, and keeps its session for a reconnection', async () => {
		const token = randomUUID();
		const client = await WireClient.raw(agent.port, { query: { reconnectionToken: token } });
		await client.handshake({ token: agent.token, connectionType: 1 });
		// The wire client never sends KeepAlive: to the agent it is a dead peer.
		await client.waitClosed(25_000);
		await agent.waitForLog(/connection lost; waiting for the client to reconnect reason=timeout/);
		const again = await WireClient.raw(agent.port, {
			query: { reconnectionToken: token, reconnection: 'true' },
		});
		assert.deepEqual((await again.handshake({ token: agent.token, connectionType: 1 })).reply, {
			type: 'ok',
		});
		again.write(encodeMessage(MessageType.Disconnect, 0, 0));
		await again.waitClosed();
	});
});

describe('reconnection grace', () => {
	it('forgets a session once --reconnection-grace-time has passed', async () => {
		const agent = await startAgent({ args: ['--reconnection-grace-time', '1'] });
		try {
			const token = randomUUID();
			const client = await WireClient.raw(agent.port, { query: { reconnectionToken: token } });
			await client.handshake({ token: agent.token, connectionType: 1 });
			client.destroy();
			await agent.waitForLog(/did not come back within the grace time/, 10_000);
			const again = await WireClient.raw(agent.port, {
				query: { reconnectionToken: token, reconnection: 'true' },
			});
			const { reply } = await again.handshake({ token: agent.token, connectionType: 1 });
			assert.deepEqual(reply, { type: 'error', reason: 'Unknown reconnection token (seen before)' });
		} finally {
			await agent.stop();
		}
	});
});
