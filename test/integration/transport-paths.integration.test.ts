import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { runCli, spawnCli, startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { readAll } from '../helpers/net';
import { within } from '../helpers/wait';

/**
 * A reverse proxy that, like many CDNs and corporate proxies, passes WebSocket *messages* and
 * nothing else: it terminates the client's WebSocket and opens its own to the agent. Raw bytes
 * after the 101 (Berth's fast path) are not WebSocket frames, so it drops them.
 */
async function startWebSocketOnlyProxy(agentPort: number): Promise<{ port: number; close(): Promise<void> }> {
	const server = createHttpServer((_req, res) => res.writeHead(404).end());
	const wss = new WebSocketServer({ server, perMessageDeflate: false });
	wss.on('connection', (client, req) => {
		const url = new URL(req.url ?? '/', 'http://proxy');
		url.searchParams.set('skipWebSocketFrames', 'false'); // it only knows how to relay frames
		const upstream = new WebSocket(`ws://127.0.0.1:${agentPort}${url.pathname}${url.search}`, {
			perMessageDeflate: false,
		});
		const queue: Buffer[] = [];
		client.on('message', (data: Buffer) =>
			upstream.readyState === WebSocket.OPEN ? upstream.send(data) : queue.push(data),
		);
		upstream.on('open', () => queue.splice(0).forEach((d) => upstream.send(d)));
		upstream.on('message', (data: Buffer) => client.send(data));
		const closeBoth = () => {
			client.terminate();
			upstream.terminate();
		};
		client.on('close', closeBoth);
		client.on('error', closeBoth);
		upstream.on('close', closeBoth);
		upstream.on('error', closeBoth);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		close: () =>
			new Promise<void>((resolve) => {
				for (const c of wss.clients) {
					c.terminate();
				}
				wss.close();
				server.close(() => resolve());
			}),
	};
}

async function httpServer(host: string, body: string): Promise<{ server: HttpServer; port: number }> {
	const server = createHttpServer((_req, res) => res.end(body));
	await new Promise<void>((resolve) => server.listen(0, host, resolve));
	return { server, port: (server.address() as AddressInfo).port };
}

function tokenFileFor(agent: AgentProcess): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, agent.token + '\n', { mode: 0o600 });
	return file;
}

describe('transport paths', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('auto: falls back to WebSocket frames when a proxy passes only WebSocket messages', async () => {
		const proxy = await startWebSocketOnlyProxy(agent.port);
		const web = await httpServer('127.0.0.1', 'through the proxy');
		const cli = spawnCli([
			'forward',
			'-u',
			`ws://127.0.0.1:${proxy.port}`,
			'--token-file',
			tokenFileFor(agent),
			'-L',
			`0:127.0.0.1:${web.port}`,
		]);
		try {
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) ->/, 40_000);
			const response = await fetch(`http://127.0.0.1:${line[1]}/`);
			assert.equal(await response.text(), 'through the proxy');
			await agent.waitForLog(/type=Mux transport=websocket outcome=accepted/);
		} finally {
			await cli.stop();
			await proxy.close();
			web.server.close();
		}
	});

	it('tcp only: fails through that proxy, saying the agent could not be reached', async () => {
		const proxy = await startWebSocketOnlyProxy(agent.port);
		try {
			const result = await runCli(
				[
					'forward',
					'-u',
					`ws://127.0.0.1:${proxy.port}`,
					'--token-file',
					tokenFileFor(agent),
					'--transport',
					'tcp',
					'-L',
					'0:127.0.0.1:9',
				],
				{ timeoutMs: 40_000 },
			);
			assert.equal(result.code, 4, result.stderr);
			assert.match(result.stderr, /berth: /);
		} finally {
			await proxy.close();
		}
	});

	it('reaches a target that listens on ::1 only through `localhost` (IPv6 first or second, either way)', async () => {
		const v6 = await httpServer('::1', 'ipv6 only');
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFileFor(agent),
			'-L',
			`0:localhost:${v6.port}`,
		]);
		try {
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) ->/);
			assert.equal(await (await fetch(`http://127.0.0.1:${line[1]}/`)).text(), 'ipv6 only');
		} finally {
			await cli.stop();
			v6.server.close();
		}
	});

	it('binds both loopbacks, 127.0.0.1 and ::1, for a `localhost` listener', async () => {
		const v4 = await httpServer('127.0.0.1', 'hello');
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFileFor(agent),
			'-L',
			`localhost:0:127.0.0.1:${v4.port}`,
		]);
		try {
			const line = await cli.waitForStdout(/^Forwarding localhost:(\d+) ->/);
			const port = Number(line[1]);
			for (const host of ['127.0.0.1', '::1']) {
				const socket: Socket = connect({ host, port, allowHalfOpen: true });
				const reply = readAll(socket);
				socket.end('GET / HTTP/1.0\r\n\r\n');
				assert.match((await within(reply, 5_000, `a reply over ${host}`)).toString(), /hello$/, host);
			}
		} finally {
			await cli.stop();
			v4.server.close();
		}
	});

	it('carries a forward over an IPv6 agent address', async () => {
		const v6agent = await startAgent({ args: ['--host', '::1'] });
		const web = await httpServer('127.0.0.1', 'agent on ::1');
		assert.match(v6agent.url, /^ws:\/\/\[::1\]:\d+$/);
		const cli = spawnCli([
			'forward',
			'-u',
			v6agent.url,
			'--token-file',
			tokenFileFor(v6agent),
			'-L',
			`0:127.0.0.1:${web.port}`,
		]);
		try {
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) ->/);
			assert.equal(await (await fetch(`http://127.0.0.1:${line[1]}/`)).text(), 'agent on ::1');
		} finally {
			await cli.stop();
			await v6agent.stop();
			web.server.close();
		}
	});
});
