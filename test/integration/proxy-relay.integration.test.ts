import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SocksClient } from 'socks';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { BulkMode, bulkOver, startBulkTarget } from '../helpers/bulk';
import { serve } from '../helpers/net';
import { curl, startWeb, providerLines, loggedConnections } from '../helpers/proxy-clients';
import { waitFor, within } from '../helpers/wait';

function tokenFile(token: string): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, token + '\n', { mode: 0o600 });
	return file;
}

const newToken = (): string => randomBytes(16).toString('hex');

interface Relay {
	readonly agent: AgentProcess;
	readonly connectorToken: string;
	readonly api: string;
}

async function startRelay(): Promise<Relay> {
	const connectorToken = newToken();
	const agent = await startAgent({
		args: [
			'-r',
			'--socks-port',
			'0',
			'--connector-token-file',
			tokenFile(connectorToken),
			'--log-level',
			'debug',
		],
	});
	return { agent, connectorToken, api: agent.url.replace(/^ws:/, 'http:') };
}

async function startProvider(agent: AgentProcess, name: string): Promise<CliProcess> {
	const cli = spawnCli([
		'provider',
		'--name',
		name,
		'-u',
		agent.url,
		'--token-file',
		tokenFile(agent.token!),
	]);
	await cli.waitForStdout(/^Providing egress/, 15_000);
	return cli;
}

async function startConnector(
	agent: AgentProcess,
	token: string,
): Promise<{ cli: CliProcess; port: number }> {
	const cli = spawnCli(['connector', '-p', '0', '-u', agent.url, '--token-file', tokenFile(token)]);
	const line = await cli.waitForStdout(/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/, 15_000);
	return { cli, port: Number(line[1]) };
}

function api(
	relay: Relay,
	method: string,
	path: string,
	body?: unknown,
	bearer: string | null = relay.agent.token ?? null,
): Promise<Response> {
	return fetch(relay.api + path, {
		method,
		headers: {
			...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}),
			...(body !== undefined ? { 'content-type': 'application/json' } : {}),
		},
		...(body !== undefined ? { body: JSON.stringify(body) } : {}),
	});
}

describe('relay mode (berth connector -> agent -> berth provider)', () => {
	let web: { port: number; close(): Promise<void> };
	before(async () => {
		web = await startWeb();
	});
	after(() => web?.close());

	it("carries a connector's curl (SOCKS5 and HTTP) out of a provider, and via picks the provider", async () => {
		const relay = await startRelay();
		after(() => relay.agent.stop());
		const providers = await Promise.all(['box1', 'box2'].map((n) => startProvider(relay.agent, n)));
		after(() => Promise.all(providers.map((p) => p.stop())));
		const connector = await startConnector(relay.agent, relay.connectorToken);
		after(() => connector.cli.stop());
		const socks = await curl([
			'--socks5-hostname',
			`127.0.0.1:${connector.port}`,
			`http://localhost:${web.port}/s`,
		]);
		assert.deepEqual([socks.code, socks.stdout], [0, 'hello /s']);
		const http = await curl(['-x', `http://127.0.0.1:${connector.port}`, `http://127.0.0.1:${web.port}/h`]);
		assert.deepEqual([http.code, http.stdout], [0, 'hello /h']);
		for (let i = 0; i < 3; i++) {
			const via = await curl([
				'--socks5-hostname',
				`127.0.0.1:${connector.port}`,
				'--proxy-user',
				'app-via-box2:',
				`http://127.0.0.1:${web.port}/v${i}`,
			]);
			assert.equal(via.stdout, `hello /v${i}`);
		}
		await loggedConnections(relay.agent, 5);
		assert.equal(providerLines(relay.agent, 'box1') + providerLines(relay.agent, 'box2'), 5);
		assert.ok(providerLines(relay.agent, 'box2') >= 3, 'every via-box2 connection left from box2');
	});

	it('refuses a wrong connector token (exit 3), and a connector that asks for anything but proxy streams', async () => {
		const relay = await startRelay();
		after(() => relay.agent.stop());
		const wrong = spawnCli([
			'connector',
			'-p',
			'0',
			'-u',
			relay.agent.url,
			'--token-file',
			tokenFile(newToken()),
		]);
		assert.equal(await wrong.exited, 3);
		const reverse = spawnCli([
			'forward',
			'-u',
			relay.agent.url,
			'--token-file',
			tokenFile(relay.connectorToken),
			'-R',
			'0:127.0.0.1:80',
		]);
		assert.notEqual(await reverse.exited, 0);
		assert.match(reverse.stderr.join('\n'), /a connector may only open proxy connections, not addForward/);
	});

	it('adds a connector token through the API, and cuts that connector within 1 s of its removal', async () => {
		const relay = await startRelay();
		after(() => relay.agent.stop());
		const provider = await startProvider(relay.agent, 'box');
		after(() => provider.stop());
		assert.equal((await api(relay, 'GET', '/api/status', undefined, null)).status, 401);
		assert.equal((await api(relay, 'GET', '/api/status', undefined, newToken())).status, 401);
		const token = newToken();
		const added = await api(relay, 'POST', '/api/connectors', { token });
		assert.equal(added.status, 201);
		const { id } = (await added.json()) as { id: string };
		const connector = await startConnector(relay.agent, token);
		after(() => connector.cli.stop());
		const status = (await (await api(relay, 'GET', '/api/status')).json()) as {
			providers: { name: string }[];
			connectors: { id: string; sessions: number }[];
		};
		assert.deepEqual(
			status.providers.map((p) => p.name),
			['box'],
		);
		assert.deepEqual(status.connectors.find((c) => c.id === id)?.sessions, 1);

		// A connection held open through the connector, to a target that says nothing.
		const silent = await serve(() => undefined);
		after(() => silent.close());
		const held: Socket = (
			await SocksClient.createConnection({
				proxy: { host: '127.0.0.1', port: connector.port, type: 5 },
				command: 'connect',
				destination: { host: '127.0.0.1', port: silent.port },
			})
		).socket;
		held.on('error', () => undefined);
		const closed = new Promise((resolve) => held.once('close', resolve));
		const removedAt = Date.now();
		assert.equal((await api(relay, 'DELETE', `/api/connectors/${id}`)).status, 204);
		await within(closed, 1_000, 'the connector cut within 1 s');
		assert.ok(Date.now() - removedAt <= 1_000);
		// Its token is gone: the connector cannot come back (it tries twice more: see forward-command.ts).
		assert.equal(await within(connector.cli.exited, 30_000, 'the connector to give up'), 3);
		assert.equal((await api(relay, 'DELETE', `/api/connectors/${id}`)).status, 404);
	});

	it('moves 1 GiB each way byte-exact through connector, agent and provider', async () => {
		const relay = await startRelay();
		after(() => relay.agent.stop());
		const provider = await startProvider(relay.agent, 'bulk');
		after(() => provider.stop());
		const connector = await startConnector(relay.agent, relay.connectorToken);
		after(() => connector.cli.stop());
		const bytes = 1024 * 1024 * 1024;
		const bulk = await startBulkTarget(bytes);
		after(() => bulk.close());
		const open = async (): Promise<Socket> =>
			(
				await SocksClient.createConnection({
					proxy: { host: '127.0.0.1', port: connector.port, type: 5 },
					command: 'connect',
					destination: { host: '127.0.0.1', port: bulk.port },
				})
			).socket;
		const down = await bulkOver(await open(), BulkMode.Download, 1, bytes);
		const up = await bulkOver(await open(), BulkMode.Upload, 2, bytes);
		assert.deepEqual([down, up], ['exact', 'exact']);
		await waitFor(() => providerLines(relay.agent, 'bulk') >= 2 || undefined, 'both through the provider');
	});

	it('autonomy (-r -a): each connector reaches only the provider that declared its token; no token twice; no agent port', async () => {
		const agent = await startAgent({ args: ['-r', '-a', '--socks-port', '0', '--log-level', 'debug'] });
		after(() => agent.stop());
		assert.ok(!agent.stdout.some((l) => l.startsWith('Proxy')), 'the agent opens no proxy port of its own');
		const [tokenA, tokenB] = [newToken(), newToken()];
		const provide = async (name: string, token: string): Promise<CliProcess> => {
			const cli = spawnCli([
				'provider',
				'--name',
				name,
				'--connector-token-file',
				tokenFile(token),
				'-u',
				agent.url,
				'--token-file',
				tokenFile(agent.token!),
			]);
			await cli.waitForStdout(/^Providing egress/, 15_000);
			return cli;
		};
		const providerA = await provide('pa', tokenA);
		after(() => providerA.stop());
		const providerB = await provide('pb', tokenB);
		after(() => providerB.stop());
		const thief = spawnCli([
			'provider',
			'--connector-token-file',
			tokenFile(tokenA),
			'-u',
			agent.url,
			'--token-file',
			tokenFile(agent.token!),
		]);
		assert.notEqual(await thief.exited, 0, 'a token another provider declared cannot be claimed');
		assert.match(thief.stderr.join('\n'), /already in use/);

		const connectorA = await startConnector(agent, tokenA);
		after(() => connectorA.cli.stop());
		const connectorB = await startConnector(agent, tokenB);
		after(() => connectorB.cli.stop());
		for (let i = 0; i < 3; i++) {
			for (const [connector, tag] of [
				[connectorA, 'a'],
				[connectorB, 'b'],
			] as const) {
				const r = await curl([
					'--socks5-hostname',
					`127.0.0.1:${connector.port}`,
					`http://127.0.0.1:${web.port}/${tag}${i}`,
				]);
				assert.equal(r.stdout, `hello /${tag}${i}`);
			}
		}
		await loggedConnections(agent, 6);
		assert.deepEqual(
			[providerLines(agent, 'pa'), providerLines(agent, 'pb')],
			[3, 3],
			'each pair kept to itself',
		);
		// The agent's own connection token is no connector's.
		const own = spawnCli([
			'provider',
			'--connector-token-file',
			tokenFile(agent.token!),
			'-u',
			agent.url,
			'--token-file',
			tokenFile(agent.token!),
		]);
		assert.notEqual(await own.exited, 0);
	});
});
