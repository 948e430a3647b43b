import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { BulkMode, bulkOver, startBulkTarget } from '../helpers/bulk';
import { listenerSockets } from '../helpers/proc';
import { curl, startWeb, providerLines, loggedConnections, socksConnect } from '../helpers/proxy-clients';
import { waitFor } from '../helpers/wait';

/** `berth server -r --socks-port 0` at debug level (its log says which provider carried what). */
async function startReverseAgent(
	extra: readonly string[] = [],
): Promise<{ agent: AgentProcess; proxyPort: number }> {
	const agent = await startAgent({ args: ['-r', '--socks-port', '0', '--log-level', 'debug', ...extra] });
	const line = await waitFor(
		() => agent.stdout.map((l) => /^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/.exec(l)).find(Boolean),
		'the proxy line',
	);
	return { agent, proxyPort: Number(line[1]) };
}

/** A provider (`berth provider --name NAME`), once the agent counts it. */
async function startProvider(agent: AgentProcess, name: string): Promise<CliProcess> {
	const tokenFile = join(tempDir(), 'token');
	writeFileSync(tokenFile, agent.token + '\n', { mode: 0o600 });
	const cli = spawnCli(['provider', '--name', name, '-u', agent.url, '--token-file', tokenFile]);
	await cli.waitForStdout(/^Providing egress/, 15_000);
	return cli;
}

describe('reverse-mode proxy (berth server -r, berth client -r / berth provider)', () => {
	let web: { port: number; close(): Promise<void> };
	before(async () => {
		web = await startWeb();
	});
	after(() => web?.close());

	it("carries curl through the agent's proxy port out of the provider, SOCKS5 and HTTP", async () => {
		const { agent, proxyPort } = await startReverseAgent();
		after(() => agent.stop());
		const provider = await startProvider(agent, 'box1');
		after(() => provider.stop());
		const socks = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxyPort}`,
			`http://localhost:${web.port}/r`,
		]);
		assert.deepEqual([socks.code, socks.stdout], [0, 'hello /r']);
		const http = await curl(['-x', `http://127.0.0.1:${proxyPort}`, `http://127.0.0.1:${web.port}/h`]);
		assert.deepEqual([http.code, http.stdout], [0, 'hello /h']);
		await loggedConnections(agent, 2);
		assert.equal(providerLines(agent, 'box1'), 2);
	});

	it('holds a connection made before any provider until one comes, and fails it (0x04) after 10 s without', async () => {
		const { agent, proxyPort } = await startReverseAgent();
		after(() => agent.stop());
		const started = Date.now();
		const alone = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxyPort}`,
			`http://127.0.0.1:${web.port}/`,
		]);
		const waited = Date.now() - started;
		assert.equal(alone.code, 97);
		assert.match(alone.stderr, /\(4\)/);
		assert.ok(waited >= 9_500 && waited < 15_000, `failed after ${waited} ms, not 10 s`);

		const early = curl(['--socks5-hostname', `127.0.0.1:${proxyPort}`, `http://127.0.0.1:${web.port}/early`]);
		// The request is in and waiting (its connection is open on the proxy port) before a provider comes.
		await waitFor(() => listenerSockets(proxyPort).count >= 1 || undefined, 'the early connection');
		const provider = await startProvider(agent, 'late');
		after(() => provider.stop());
		assert.deepEqual((await early).stdout, 'hello /early');
	});

	it('goes round robin over three providers, and when one is killed the others carry on', async () => {
		// The agent cannot tell a killed provider from one whose network dropped: it holds the
		// provider's streams for the grace time (short here), then resets them.
		const { agent, proxyPort } = await startReverseAgent(['--reconnection-grace-time', '2']);
		after(() => agent.stop());
		const names = ['p1', 'p2', 'p3'];
		const providers = await Promise.all(names.map((n) => startProvider(agent, n)));
		after(() => Promise.all(providers.map((p) => p.stop())));
		await agent.waitForLog(/providers=3/);
		const bytes = 64 * 1024 * 1024;
		const bulk = await startBulkTarget(bytes);
		after(() => bulk.close());
		// Nine long transfers, three per provider (round robin); one provider dies mid-way.
		const sockets: Socket[] = [];
		for (let i = 0; i < 9; i++) {
			sockets.push(await socksConnect(proxyPort, '127.0.0.1', bulk.port));
		}
		// The agent's log lines reach this process a little after the connections are up.
		await waitFor(
			() => names.reduce((sum, n) => sum + providerLines(agent, n), 0) >= 9 || undefined,
			'the agent to log all nine',
		);
		assert.deepEqual(
			names.map((n) => providerLines(agent, n)),
			[3, 3, 3],
			'round robin',
		);
		const outcomes = Promise.all(sockets.map((s, id) => bulkOver(s, BulkMode.Download, id, bytes)));
		providers[1]!.child.kill('SIGKILL');
		const tally = await outcomes;
		assert.equal(tally.filter((o) => o === 'mismatch').length, 0, 'no transfer delivered wrong bytes');
		assert.ok(tally.filter((o) => o === 'exact').length >= 6, `the others' transfers finished: ${tally}`);
		await agent.waitForLog(/a provider left name=p2/);
		await agent.waitForLog(/did not come back within the grace time/);
		for (let i = 0; i < 6; i++) {
			const after = await curl([
				'--socks5-hostname',
				`127.0.0.1:${proxyPort}`,
				`http://127.0.0.1:${web.port}/${i}`,
			]);
			assert.equal(after.stdout, `hello /${i}`);
		}
		await loggedConnections(agent, 15);
		assert.equal(providerLines(agent, 'p1') + providerLines(agent, 'p3'), 12, 'p2 got no new connection');
	});

	it('picks the provider a via label names', async () => {
		const { agent, proxyPort } = await startReverseAgent();
		after(() => agent.stop());
		const providers = await Promise.all(['box1', 'box2'].map((n) => startProvider(agent, n)));
		after(() => Promise.all(providers.map((p) => p.stop())));
		for (let i = 0; i < 4; i++) {
			const r = await curl([
				'--socks5-hostname',
				`127.0.0.1:${proxyPort}`,
				'--proxy-user',
				'app-via-box2:',
				`http://127.0.0.1:${web.port}/v${i}`,
			]);
			assert.equal(r.stdout, `hello /v${i}`);
		}
		const header = await curl([
			'-p',
			'-x',
			`http://127.0.0.1:${proxyPort}`,
			'--proxy-header',
			'x-berth-config: via=box1',
			`http://127.0.0.1:${web.port}/hdr`,
		]);
		assert.equal(header.stdout, 'hello /hdr');
		await loggedConnections(agent, 5);
		assert.deepEqual([providerLines(agent, 'box1'), providerLines(agent, 'box2')], [1, 4]);
	});

	it('moves 1 GiB each way byte-exact through the agent and a provider', async () => {
		const { agent, proxyPort } = await startReverseAgent();
		after(() => agent.stop());
		const provider = await startProvider(agent, 'bulk');
		after(() => provider.stop());
		const bytes = 1024 * 1024 * 1024;
		const bulk = await startBulkTarget(bytes);
		after(() => bulk.close());
		const down = await bulkOver(
			await socksConnect(proxyPort, '127.0.0.1', bulk.port),
			BulkMode.Download,
			1,
			bytes,
		);
		const up = await bulkOver(
			await socksConnect(proxyPort, '127.0.0.1', bulk.port),
			BulkMode.Upload,
			2,
			bytes,
		);
		assert.deepEqual([down, up], ['exact', 'exact']);
	});

	it('refuses provideEgress on an agent without -r, and a forward client carries no stream the agent opens', async () => {
		const agent = await startAgent();
		after(() => agent.stop());
		const tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, agent.token + '\n', { mode: 0o600 });
		const cli = spawnCli(['provider', '-u', agent.url, '--token-file', tokenFile]);
		assert.notEqual(await cli.exited, 0);
		assert.match(cli.stderr.join('\n'), /runs no reverse proxy: start it with berth server -r/);
	});

	it("opens ssh's dynamic reverse forward (-R PORT): a proxy port on the agent whose traffic leaves from the client", async () => {
		// The agent may not reach the web server itself: only traffic leaving from the client can.
		const agent = await startAgent({
			args: ['--deny', `127.0.0.1:${web.port}`, '--deny', `localhost:${web.port}`],
		});
		after(() => agent.stop());
		const tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, agent.token + '\n', { mode: 0o600 });
		const cli = spawnCli(['forward', '-u', agent.url, '--token-file', tokenFile, '-R', '0']);
		after(() => cli.stop());
		const line = await cli.waitForStdout(
			/^Proxy \(SOCKS5 and HTTP\) on agent 127\.0\.0\.1:(\d+), traffic leaves from here/,
		);
		const port = Number(line[1]);
		const socks = await curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://127.0.0.1:${web.port}/dyn`]);
		assert.deepEqual([socks.code, socks.stdout], [0, 'hello /dyn']);
		const http = await curl(['-x', `http://127.0.0.1:${port}`, `http://localhost:${web.port}/dyn2`]);
		assert.deepEqual([http.code, http.stdout], [0, 'hello /dyn2']);
	});
});
