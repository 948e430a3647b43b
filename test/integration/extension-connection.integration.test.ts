import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentIdForUrl, Connection, type ConnectionStatus } from '../../extension/agent/connection';
import { createSinkLogger } from '../../extension/logger';
import { AgentConnection, createNodeTimers, OwnForwards, parseAgentUrl } from '../../server/client';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { serve } from '../helpers/net';
import { waitFor } from '../helpers/wait';

/** What the window calls itself on the agent (`hello`), as ConnectionRegistry names it. */
const WINDOW = 'me@here (VS Code, window 1a2b)';
/** The agent scans its ports every 2 s; a loaded machine may take several scans. */
const PORT_SCAN_WAIT_MS = 30_000;

/** An extension window's connection to the agent, with a log that keeps its lines. */
async function openWindow(agent: AgentProcess): Promise<{ connection: Connection; lines: string[] }> {
	const lines: string[] = [];
	const log = createSinkLogger(
		(level, text) => lines.push(`${level}: ${text}`),
		() => [agent.token!],
	);
	const connection = await Connection.open(
		{ id: agentIdForUrl(agent.url), url: agent.url, token: agent.token, peer: 'berth', isLocal: false },
		log,
		{ clientName: WINDOW, own: new OwnForwards() },
	);
	return { connection, lines };
}

/** Another client of the agent: its owner, looking at who is connected. */
async function connectOwner(agent: AgentProcess): Promise<AgentConnection> {
	const { connection } = await AgentConnection.connect({
		address: parseAgentUrl(agent.url),
		token: agent.token,
		mode: 'tcp',
		peer: 'berth',
		timers: createNodeTimers(),
		clientName: 'the agent’s owner',
	});
	return connection;
}

/** The window's sessions on the agent, as another client sees them. */
async function windowSessions(owner: AgentConnection): Promise<{ id: string; kind: string }[]> {
	return (await owner.listClients()).filter((c) => c.name === WINDOW).map(({ id, kind }) => ({ id, kind }));
}

describe('the extension’s connection to a Berth agent', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('holds one session with the agent, a stream session, and counts the other clients', async () => {
		const { connection } = await openWindow(agent);
		const owner = await connectOwner(agent);
		try {
			const sessions = await windowSessions(owner);
			assert.deepEqual(
				sessions.map((s) => s.kind),
				['streams'],
				`the agent sees the window once: ${JSON.stringify(sessions)}`,
			);
			const self = (await connection.listClients()).filter((c) => c.isSelf);
			assert.deepEqual(
				self.map((c) => c.id),
				[sessions[0]!.id],
				'the window asks on that session',
			);
			await waitFor(() => connection.otherClients === 1, 'the owner, counted as the one other client');
			owner.close();
			await waitFor(() => connection.otherClients === 0, 'no other client once the owner left');
		} finally {
			owner.close();
			connection.dispose();
		}
	});

	it('follows the session the forwarder renews: status, ports and clients come from the new one', async () => {
		const { connection } = await openWindow(agent);
		const owner = await connectOwner(agent);
		const statuses: ConnectionStatus['type'][] = [];
		connection.onDidChangeStatus((status) => statuses.push(status.type));
		let service: Awaited<ReturnType<typeof serve>> | undefined;
		try {
			await waitFor(() => connection.listeningPorts, 'the first session’s ports');
			const [first] = await windowSessions(owner);
			await owner.disconnectClient(first!.id);
			await waitFor(
				() => statuses.includes('reconnecting') && connection.status.type === 'connected',
				'the window to renew its session',
			);
			const renewed = await waitFor(async () => {
				const now = await windowSessions(owner);
				return now.length === 1 && now[0]!.id !== first!.id ? now : undefined;
			}, 'the window in a new session');
			assert.deepEqual(
				(await connection.listClients()).filter((c) => c.isSelf).map((c) => c.id),
				[renewed[0]!.id],
				'listClients goes through the new session',
			);
			service = await serve((socket) => socket.end());
			const port = service.port;
			await waitFor(
				() => connection.listeningPorts?.some((p) => p.port === port),
				'a port opened after the renewal',
				PORT_SCAN_WAIT_MS,
			);
			await waitFor(() => connection.otherClients === 1, 'the owner counted on the new session');
			owner.close();
			await waitFor(() => connection.otherClients === 0, 'clientsChanged on the new session');
		} finally {
			owner.close();
			connection.dispose();
			await service?.close();
		}
	});
});
