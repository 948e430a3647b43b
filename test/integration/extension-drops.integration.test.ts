import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
	agentIdForUrl,
	Connection,
	type ConnectionFailure,
	type ConnectionStatus,
	type SessionLoss,
} from '../../extension/agent/connection';
import { createSinkLogger } from '../../extension/logger';
import { OwnForwards } from '../../server/client';
import { startAgent } from '../helpers/agent-process';
import { FaultProxy } from '../helpers/fault-proxy';
import { startEchoServer } from '../helpers/net';
import { waitFor } from '../helpers/wait';

/**
 * The extension's Connection across drops (issue 13), through a FaultProxy between it and the
 * agent: a drop the agent holds is "reconnecting", then counted as resumed, and reports no
 * failure; a session the agent no longer holds reports its connections' failures once, as a
 * session loss, never per forward.
 */

/** A connection through `proxy` to the agent behind it, with what it reports. */
async function openThrough(t: TestContext, agentArgs: string[] = []) {
	const agent = await startAgent({ args: agentArgs });
	t.after(() => agent.stop());
	const proxy = await FaultProxy.start({ targetPort: agent.port });
	t.after(() => proxy.dispose());
	const echo = await startEchoServer();
	t.after(() => echo.close());
	const url = agent.url.replace(`:${agent.port}`, `:${proxy.port}`);
	const log = createSinkLogger(
		() => undefined,
		() => [agent.token!],
	);
	const connection = await Connection.open(
		{ id: agentIdForUrl(url), url, token: agent.token, peer: 'berth', isLocal: false },
		log,
		{ clientName: 'me@here (VS Code, window 1a2b)', own: new OwnForwards() },
	);
	t.after(() => connection.dispose());
	const statuses: ConnectionStatus[] = [];
	const failures: ConnectionFailure[] = [];
	const losses: SessionLoss[] = [];
	connection.onDidChangeStatus((s) => statuses.push(s));
	connection.onDidFailConnection((f) => failures.push(f));
	connection.onDidLoseSession((l) => losses.push(l));
	const forward = await connection.addLocal({
		bind: '127.0.0.1',
		localPort: 0,
		host: '127.0.0.1',
		port: echo.port,
	});
	const socket = await dial(forward.bindPort);
	t.after(() => socket.destroy());
	assert.equal(await echoed(socket, 'before'), 'before');
	return { proxy, connection, statuses, failures, losses, socket };
}

function dial(port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
		socket.once('error', reject);
	});
}

/** Writes `text` and resolves with what comes back first. */
function echoed(socket: Socket, text: string): Promise<string> {
	return new Promise((resolve, reject) => {
		socket.once('data', (data: Buffer) => resolve(data.toString()));
		socket.once('error', reject);
		socket.write(text);
	});
}

describe('the extension’s connection across drops', () => {
	it('shows a drop the agent holds as reconnecting, then counts it resumed; the connection goes on', async (t) => {
		const { proxy, connection, statuses, failures, losses, socket } = await openThrough(t);
		proxy.refuse(true);
		proxy.cut();
		await waitFor(() => proxy.refused >= 1, 'an attempt refused');
		const down = connection.status;
		assert.equal(down.type, 'reconnecting');
		assert.equal(down.type === 'reconnecting' && down.resuming, true, 'the session is held');
		proxy.refuse(false);
		await waitFor(() => connection.status.type === 'connected', 'the session resumed', 30_000);
		const up = connection.status;
		assert.equal(up.type === 'connected' && up.drops?.drops, 1);
		assert.equal(up.type === 'connected' && up.drops?.last.end, 'resumed');
		assert.equal(await echoed(socket, 'after'), 'after', 'the same connection goes on');
		assert.ok(
			statuses.some((s) => s.type === 'reconnecting'),
			'it said reconnecting',
		);
		assert.deepEqual(failures, [], 'no failure');
		assert.deepEqual(losses, [], 'nothing lost');
	});

	it('tells a session lost with connections open once, with the reason, and never per forward', async (t) => {
		const { proxy, connection, failures, losses, socket } = await openThrough(t, [
			'--reconnection-grace-time',
			'1',
		]);
		const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
		proxy.refuse(true);
		proxy.cut();
		// The second attempt comes after the grace time: the session is given up, its connection reset.
		await waitFor(
			() => connection.status.type === 'reconnecting' && connection.status.resuming === false,
			'the session given up',
			30_000,
		);
		await closed;
		proxy.refuse(false);
		await waitFor(() => connection.status.type === 'connected', 'a new session', 30_000);
		const up = connection.status;
		assert.equal(up.type === 'connected' && up.drops?.last.end, 'lost');
		assert.equal(losses.length, 1, JSON.stringify(losses));
		assert.match(losses[0]!.reason, /longer than its grace time \(1 s\); connections were lost/);
		assert.deepEqual(failures, [], 'the drop is not told as a failure of the forward');
	});
});
