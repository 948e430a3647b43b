import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ListeningPort } from '../../protocol/rpc';
import {
	AgentConnection,
	OwnForwards,
	StreamForwarder,
	TunnelForwarder,
	computeNetworkIdentity,
	createNodeTimers,
	parseAgentUrl,
	type AgentEndpoint,
} from '../../server/client';
import {
	runCli,
	spawnCli,
	startAgent,
	startForward,
	tempDir,
	type AgentProcess,
} from '../helpers/agent-process';
import { freePort, serve, startEchoServer } from '../helpers/net';
import { waitFor } from '../helpers/wait';

/** How the library reaches a test agent: raw TCP, verified with its token, under a name. */
function endpointOf(agent: AgentProcess, clientName?: string): AgentEndpoint {
	return {
		address: parseAgentUrl(agent.url),
		token: agent.token,
		mode: 'tcp',
		peer: 'berth',
		timers: createNodeTimers(),
		...(clientName !== undefined ? { clientName } : {}),
	};
}

function tokenFileOf(agent: AgentProcess): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, agent.token + '\n', { mode: 0o600 });
	return file;
}

/** Connects to 127.0.0.1:port and resolves once the connection is over, however it ended. */
function hit(port: number): Promise<void> {
	return new Promise((resolve) => {
		const socket = connect({ port, host: '127.0.0.1' });
		socket.on('error', () => resolve());
		socket.on('close', () => resolve());
	});
}

describe('forwarding loops', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('reports the network the agent is on, equal to this process’s on the same host', async () => {
		const { connection, info } = await AgentConnection.connect(endpointOf(agent));
		try {
			assert.equal(info.network, computeNetworkIdentity());
			assert.equal(connection.sameNetwork, true);
		} finally {
			connection.close();
		}
	});

	it('refuses `berth forward -L P:127.0.0.1:P` against an agent on this host: exit 6, in words', async () => {
		const port = await freePort();
		const result = await runCli(
			['forward', '-u', agent.url, '--token-file', tokenFileOf(agent), '-L', `${port}:127.0.0.1:${port}`],
			{ timeoutMs: 20_000 },
		);
		assert.equal(result.code, 6, result.stderr);
		assert.match(
			result.stderr,
			new RegExp(`127\\.0\\.0\\.1:${port} is this forward's own listener: the forward would reach itself`),
		);
		assert.match(result.stderr, /berth: forward: no forward could be opened: each would reach a listener/);
		assert.doesNotMatch(result.stdout, /Forwarding/);
	});

	it('refuses the self-target on the Tunnel path too, after probing where the agent runs', async () => {
		const port = await freePort();
		const service = await startEchoServer();
		// One Tunnel connection per forwarded connection, as for a VS Code server, which does not
		// report its network: the forwarder finds out with a probe through it.
		const forwarder = new TunnelForwarder(endpointOf(agent));
		try {
			await assert.rejects(
				forwarder.addLocal({ bind: '127.0.0.1', localPort: port, host: '127.0.0.1', port }),
				{
					code: 'BERTH_ERR_LOOP',
					message: `127.0.0.1:${port} is this forward's own listener: the forward would reach itself`,
				},
			);
			const info = await forwarder.addLocal({
				bind: '127.0.0.1',
				localPort: 0,
				host: '127.0.0.1',
				port: service.port,
			});
			const socket = connect({ port: info.bindPort, host: '127.0.0.1' });
			socket.end('ping');
			const echoed = await new Promise<string>((resolve) => {
				let data = '';
				socket.on('data', (c: Buffer) => (data += c.toString()));
				socket.on('close', () => resolve(data));
			});
			assert.equal(echoed, 'ping', 'a forward to a real service works');
		} finally {
			forwarder.dispose();
			await service.close();
		}
	});

	it("refuses a forward to another forward's listener, and a listener where another forward leads", async () => {
		const service = await startEchoServer();
		const first = await freePort();
		const nowhere = await freePort();
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFileOf(agent),
			'-L',
			`${first}:127.0.0.1:${service.port}`,
			'-L',
			`0:127.0.0.1:${first}`,
			'-L',
			`0:localhost:${nowhere}`,
			'-L',
			`${nowhere}:127.0.0.1:${service.port}`,
		]);
		try {
			await cli.waitForStderr(
				new RegExp(
					`127\\.0\\.0\\.1:${first} is the listener of this client's forward 127\\.0\\.0\\.1:${first} -> 127\\.0\\.0\\.1:${service.port}`,
				),
			);
			await cli.waitForStderr(new RegExp(`port ${nowhere} is where this client's forward .* leads`));
			await waitFor(() => cli.stdout.filter((l) => l.startsWith('Forwarding')).length === 2, 'two forwards');
			assert.match(
				cli.stdout.join('\n'),
				new RegExp(`Forwarding 127\\.0\\.0\\.1:${first} -> 127\\.0\\.0\\.1:${service.port}`),
			);
			assert.equal(cli.child.exitCode, null, 'the forwards that work go on');
		} finally {
			await cli.stop();
			await service.close();
		}
	});

	it('keeps a forward’s listener out of other sessions’ ports on this host, so auto-forwarding cannot chain', async () => {
		const own = new OwnForwards();
		const forwarder = await StreamForwarder.start({ ...endpointOf(agent), own });
		// Another client of the agent (a Management session, as VS Code's own); its own forwards
		// are none, so what it sees is what the agent lists.
		const { connection: watcher } = await AgentConnection.connect(endpointOf(agent));
		const services: Awaited<ReturnType<typeof serve>>[] = [];
		const added: ListeningPort[] = [];
		try {
			assert.equal(forwarder.state.type === 'connected' && forwarder.state.sameNetwork, true);
			const first = await serve((socket) => socket.end('first'));
			services.push(first);
			const forward = await forwarder.addLocal({
				bind: '127.0.0.1',
				localPort: 0,
				host: '127.0.0.1',
				port: first.port,
			});
			const listed = (await watcher.rpc.request('listeningPorts', {})).ports.map((p) => p.port);
			assert.ok(listed.includes(first.port), 'a real service is listed');
			assert.ok(!listed.includes(forward.bindPort), 'the forward’s listener is not');
			// Auto-forward as the extension does: each new port of this process gets a forward.
			watcher.api.onDidChangePorts((change) => {
				for (const port of change.added.filter((p) => p.pid === process.pid)) {
					added.push(port);
					void forwarder
						.addLocal({ bind: '127.0.0.1', localPort: 0, host: '127.0.0.1', port: port.port })
						.catch(() => undefined);
				}
			});
			await watcher.api.listeningPorts();
			// Each service starts once the previous one's forward listens: the scan that finds it sees
			// that listener too, and would report it if the agent did not leave it out.
			for (const [index, name] of ['second', 'third'].entries()) {
				const service = await serve((socket) => socket.end(name));
				services.push(service);
				await waitFor(
					() => added.some((p) => p.port === service.port),
					`the ${name} service to be detected`,
					30_000, // the agent scans every 2 s; a loaded CI machine may take several scans
				);
				await waitFor(() => forwarder.list().length === index + 2, `the ${name} service's forward`);
			}
			const listeners = new Set(forwarder.list().map((f) => f.bindPort));
			assert.deepEqual(
				added.filter((p) => listeners.has(p.port)),
				[],
				'no forward listener was ever reported as a new port',
			);
			assert.deepEqual(
				forwarder.list().map((f) => f.targetPort),
				services.map((s) => s.port),
				'one forward per real service, no chain',
			);
		} finally {
			watcher.close();
			forwarder.dispose();
			own.dispose();
			await Promise.all(services.map((s) => s.close()));
		}
	});

	it('coalesces the log of a forward to a dead target hit 500 times', async () => {
		const dead = await freePort();
		const { cli, ports } = await startForward(agent, ['-L', `0:127.0.0.1:${dead}`]);
		try {
			for (let i = 0; i < 50; i++) {
				await Promise.all(Array.from({ length: 10 }, () => hit(ports[0]!)));
			}
			await waitFor(() => cli.stderr.some((l) => /ECONNREFUSED/.test(l)), 'a refusal logged');
		} finally {
			await cli.stop();
		}
		const refusals = cli.stderr.filter((l) => /ECONNREFUSED/.test(l));
		const summaries = refusals.map((l) => /… ([\d,]+) more in 10 s/.exec(l)).filter((m) => m !== null);
		assert.ok(refusals.length <= 10, `a handful of lines, not one per connection:\n${refusals.join('\n')}`);
		assert.ok(summaries.length >= 1, 'a summary line');
		const counted = summaries.reduce((sum, m) => sum + Number(m[1]!.replace(/,/g, '')), 0);
		assert.equal(refusals.length - summaries.length + counted, 500, 'every failure is counted once');
		const agentLines = agent.stderr.filter((l) => l.includes(`127.0.0.1:${dead}`));
		assert.ok(agentLines.length <= 10, `the agent's log too:\n${agentLines.join('\n')}`);
	});
});

describe('who is using my tunnel', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('lists two clients with their names and -R forwards, and disconnects one while the other goes on', async () => {
		const target = await startEchoServer();
		const { cli } = await startForward(agent, ['-R', `0:127.0.0.1:${target.port}`]);
		const { connection: owner } = await AgentConnection.connect(endpointOf(agent, 'the agent’s owner'));
		try {
			const clients = await owner.listClients();
			const cliName = `berth forward on ${hostname()}`;
			const forwarding = clients.find((c) => c.name === cliName);
			assert.ok(forwarding, `the CLI is listed by name: ${JSON.stringify(clients)}`);
			assert.equal(forwarding.kind, 'streams');
			assert.deepEqual(
				forwarding.forwards.map((f) => [f.direction, f.targetPort]),
				[['remote', target.port]],
			);
			assert.ok(Math.abs(forwarding.since - Date.now()) < 60_000, 'since: wall clock');
			const self = clients.find((c) => c.isSelf);
			assert.deepEqual([self?.name, self?.kind], ['the agent’s owner', 'management']);

			await owner.disconnectClient(forwarding.id);
			await cli.waitForStderr(/connection to the agent lost|connected to the agent again/);
			const after = await waitFor(async () => {
				const now = await owner.listClients();
				return now.find((c) => c.name === cliName && c.id !== forwarding.id) ? now : undefined;
			}, 'the CLI to come back in a new session');
			assert.ok(!after.some((c) => c.id === forwarding.id), 'the old session is gone');
			assert.equal(owner.state.type, 'connected', 'the other client goes on');
			await assert.rejects(owner.disconnectClient(self!.id), /the session asking/);
		} finally {
			owner.close();
			await cli.stop();
			await target.close();
		}
	});
});
