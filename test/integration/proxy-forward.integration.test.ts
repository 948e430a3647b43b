import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SocksClient } from 'socks';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { BulkMode, bulkOver, startBulkTarget } from '../helpers/bulk';
import { serve } from '../helpers/net';
import { curl, startWeb, type CurlResult, socksConnect } from '../helpers/proxy-clients';
import { udpAssociate } from '../helpers/proxy-modes';
import { waitFor, within } from '../helpers/wait';

/** `berth forward -D 0` (or the given command) through `agent`; resolves with the proxy's port. */
async function startProxy(
	agent: AgentProcess,
	args: readonly string[] = ['forward', '-D', '0'],
	env: Readonly<Record<string, string>> = {},
): Promise<{ cli: CliProcess; port: number }> {
	const tokenFile = join(tempDir(), 'token');
	writeFileSync(tokenFile, agent.token + '\n', { mode: 0o600 });
	const cli = spawnCli([...args, '-u', agent.url, '--token-file', tokenFile], { env });
	const line = await cli.waitForStdout(/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/, 15_000);
	return { cli, port: Number(line[1]) };
}

/** Sends raw bytes to the proxy and collects what it answers until it closes the connection. */
function rawExchange(port: number, bytes: Uint8Array): Promise<Buffer> {
	return new Promise((resolve) => {
		const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(bytes));
		const chunks: Buffer[] = [];
		socket.on('data', (c: Buffer) => chunks.push(c));
		// A reset after the answer (bytes sent past what the proxy read) still counts as a close.
		socket.on('close', () => resolve(Buffer.concat(chunks)));
		socket.on('error', () => undefined);
	});
}

describe('forward-mode proxy (berth forward -D) with real clients', () => {
	let agent: AgentProcess;
	let proxy: { cli: CliProcess; port: number };
	let web: { port: number; close(): Promise<void> };
	let deniedPort: number;

	before(async () => {
		web = await startWeb();
		const denied = await startWeb();
		deniedPort = denied.port; // a live server the policy forbids: 0x02 proves it was the policy
		after(() => denied.close());
		agent = await startAgent({ args: ['--deny', `127.0.0.1:${deniedPort}`] });
		proxy = await startProxy(agent);
	});
	after(async () => {
		await proxy?.cli.stop();
		await agent?.stop();
		await web?.close();
	});

	it('carries curl --socks5-hostname (the name resolved on the agent) and curl -x http:// both ways', async () => {
		const socks = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			`http://localhost:${web.port}/a`,
		]);
		assert.deepEqual([socks.code, socks.stdout], [0, 'hello /a']);
		const absolute = await curl(['-x', `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${web.port}/b`]);
		assert.deepEqual([absolute.code, absolute.stdout], [0, 'hello /b']);
		const tunnel = await curl([
			'-p',
			'-x',
			`http://127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${web.port}/c`,
		]);
		assert.deepEqual([tunnel.code, tunnel.stdout], [0, 'hello /c']);
	});

	it('carries a program that knows nothing of proxies, under proxychains4 (names resolved through the proxy)', async () => {
		const conf = join(tempDir(), 'proxychains.conf');
		writeFileSync(
			conf,
			`strict_chain\nproxy_dns\ntcp_read_time_out 10000\ntcp_connect_time_out 5000\n[ProxyList]\nsocks5 127.0.0.1 ${proxy.port}\n`,
		);
		const result = await new Promise<CurlResult>((resolve) => {
			execFile(
				'proxychains4',
				['-q', '-f', conf, 'curl', '-sS', '-m', '10', `http://localhost:${web.port}/chained`],
				(error, stdout, stderr) => resolve({ code: error ? -1 : 0, stdout, stderr }),
			);
		});
		assert.deepEqual([result.code, result.stdout], [0, 'hello /chained'], result.stderr);
	});

	it('keeps an HTTP proxy connection alive between absolute-form requests', async () => {
		const url = `http://127.0.0.1:${web.port}`;
		const both = await curl(['-v', '-x', `http://127.0.0.1:${proxy.port}`, `${url}/one`, `${url}/two`]);
		assert.equal(both.stdout, 'hello /onehello /two');
		assert.match(both.stderr, /Re-using existing connection/);
	});

	it("answers in each protocol's words: refused 0x05 / 502, no such name 0x04, policy 0x02 / 403", async () => {
		const closed = await closedPort();
		const refused = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${closed}/`,
		]);
		assert.equal(refused.code, 97);
		assert.match(refused.stderr, /\(5\)/);
		const name = await curl(['--socks5-hostname', `127.0.0.1:${proxy.port}`, 'http://no-such-name.invalid/']);
		assert.equal(name.code, 97);
		assert.match(name.stderr, /\(4\)/);
		const policy = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${deniedPort}/`,
		]);
		assert.equal(policy.code, 97);
		assert.match(policy.stderr, /\(2\)/);
		const http502 = await curl(['-p', '-x', `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${closed}/`]);
		assert.match(http502.stderr, /response 502/);
		const http403 = await curl([
			'-p',
			'-x',
			`http://127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${deniedPort}/`,
		]);
		assert.match(http403.stderr, /response 403/);
	});

	it('closes a connection idle for longer than its username label says (app-idle-1s), and not one without', async () => {
		const silent = await serve(() => undefined); // accepts and says nothing
		after(() => silent.close());
		// Before the connect: the proxy's idle clock starts once it is established, never earlier.
		const started = Date.now();
		const labelled = await socksConnect(proxy.port, '127.0.0.1', silent.port, { userId: 'app-foo-idle-1s' });
		const plain = await socksConnect(proxy.port, '127.0.0.1', silent.port, { userId: 'app' });
		await within(new Promise((resolve) => labelled.once('close', resolve)), 5_000, 'the idle close');
		const elapsed = Date.now() - started;
		assert.ok(elapsed >= 1_000, `closed after ${elapsed} ms, before its 1 s`);
		assert.equal(plain.destroyed, false, 'the connection without a label stays open');
		plain.destroy();
	});

	it('closes a busy connection at its ttl (app-ttl-1s) however much it moves', async () => {
		const echo = await serve((socket) => socket.pipe(socket));
		after(() => echo.close());
		const socket = await socksConnect(proxy.port, '127.0.0.1', echo.port, { userId: 'app-ttl-1s' });
		socket.on('data', () => undefined);
		socket.on('error', () => undefined);
		const started = Date.now();
		// A byte every 50 ms both ways: never idle, so only the ttl can end it.
		const ticker = setInterval(() => socket.write('x'), 50);
		after(() => clearInterval(ticker));
		await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the ttl close');
		clearInterval(ticker);
		const elapsed = Date.now() - started;
		assert.ok(elapsed >= 900 && elapsed < 3_000, `closed after ${elapsed} ms, not at its 1 s ttl`);
	});

	it('applies x-berth-config on HTTP CONNECT (idle=1s)', async () => {
		const silent = await serve(() => undefined);
		after(() => silent.close());
		const socket = connect({ port: proxy.port, host: '127.0.0.1' });
		socket.write(
			`CONNECT 127.0.0.1:${silent.port} HTTP/1.1\r\nHost: 127.0.0.1:${silent.port}\r\nx-berth-config: idle=1s\r\n\r\n`,
		);
		const head = await new Promise<string>((resolve) =>
			socket.once('data', (c: Buffer) => resolve(String(c))),
		);
		assert.match(head, /^HTTP\/1\.1 200/);
		await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the idle close');
	});

	it('relays UDP datagrams as datagrams (SOCKS5 UDP ASSOCIATE), and closes the relay with its control connection', async () => {
		const echo = createSocket('udp4');
		echo.on('message', (message, from) =>
			echo.send(Buffer.concat([Buffer.from('echo:'), message]), from.port, from.address),
		);
		await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
		after(() => echo.close());
		const { control, relay: remoteHost } = await udpAssociate(proxy.port);
		const client = createSocket('udp4');
		await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
		after(() => client.close());
		const replies: string[] = [];
		client.on('message', (message) => replies.push(String(SocksClient.parseUDPFrame(message).data)));
		const frame = (text: string) =>
			SocksClient.createUDPFrame({
				remoteHost: { host: '127.0.0.1', port: echo.address().port },
				data: Buffer.from(text),
			});
		for (const text of ['one', 'two', 'three']) {
			client.send(frame(text), remoteHost.port, remoteHost.host);
		}
		await waitFor(() => replies.length === 3 || undefined, 'three echoed datagrams', 10_000);
		assert.deepEqual([...replies].sort(), ['echo:one', 'echo:three', 'echo:two']);
		control.destroy();
		// The relay port closes with its control connection: it can then be bound by anyone else.
		await waitFor(() => canBindUdp(remoteHost.host, remoteHost.port), 'the relay port to close', 5_000);
		assert.equal(replies.length, 3, 'nothing relayed once the control connection closed');
	});

	it('moves 1 GiB each way byte-exact through one SOCKS5 connection', async () => {
		const bytes = 1024 * 1024 * 1024;
		const bulk = await startBulkTarget(bytes);
		after(() => bulk.close());
		const down = await bulkOver(
			await socksConnect(proxy.port, '127.0.0.1', bulk.port),
			BulkMode.Download,
			1,
			bytes,
		);
		const up = await bulkOver(
			await socksConnect(proxy.port, '127.0.0.1', bulk.port),
			BulkMode.Upload,
			2,
			bytes,
		);
		assert.deepEqual([down, up], ['exact', 'exact']);
	});

	it('carries 1,000 SOCKS5 connections opened at once, each byte-exact', async () => {
		const bulk = await startBulkTarget(64 * 1024);
		after(() => bulk.close());
		const outcomes = await Promise.all(
			Array.from({ length: 1000 }, async (_, id) =>
				bulkOver(await socksConnect(proxy.port, '127.0.0.1', bulk.port), BulkMode.Both, id, 64 * 1024),
			),
		);
		assert.equal(outcomes.filter((o) => o === 'exact').length, 1000);
	});

	it('answers hostile bytes with a protocol reply or a closed socket, and goes on serving', async () => {
		// A wrong version byte after SOCKS5's greeting; a greeting cut short; port 0; a 255-byte name.
		const wrongVersion = await rawExchange(
			proxy.port,
			Uint8Array.of(5, 1, 0, 4, 1, 0, 1, 127, 0, 0, 1, 0, 80),
		);
		assert.deepEqual([...wrongVersion.subarray(0, 2)], [5, 0], 'the greeting was answered');
		assert.ok(wrongVersion.length <= 2 + 10, 'no success reply for a request with a wrong version');
		const portZero = await rawExchange(proxy.port, Uint8Array.of(5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 0));
		assert.notEqual(portZero[3], 0x00, 'port 0 is not connected');
		const longName = Buffer.concat([
			Buffer.from([5, 1, 0, 5, 1, 0, 3, 255]),
			Buffer.alloc(255, 0x61),
			Buffer.from([0, 80]),
		]);
		const name = await rawExchange(proxy.port, longName);
		assert.equal(name[2 + 1], 0x04, 'a name that does not resolve: host unreachable');
		const notProxy = await rawExchange(
			proxy.port,
			Buffer.from('\x16\x03\x01 a TLS hello is not a proxy request'),
		);
		assert.equal(notProxy.length, 0);
		const flood = await rawExchange(
			proxy.port,
			Buffer.from(`GET http://127.0.0.1:${web.port}/ HTTP/1.1\r\n${'X-Pad: a\r\n'.repeat(10_000)}\r\n`),
		);
		assert.match(String(flood), /^HTTP\/1\.1 431/);
		const still = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${web.port}/ok`,
		]);
		assert.equal(still.stdout, 'hello /ok');
	});
});

describe('proxy credentials', () => {
	let agent: AgentProcess;
	let web: { port: number; close(): Promise<void> };

	before(async () => {
		web = await startWeb();
		agent = await startAgent();
	});
	after(async () => {
		await agent?.stop();
		await web?.close();
	});

	it('refuses a wrong password (SOCKS5 status 0x01, HTTP 407 with Proxy-Authenticate) and takes the right one with labels', async () => {
		const file = join(tempDir(), 'password');
		writeFileSync(file, 'correct horse\n', { mode: 0o600 });
		const proxy = await startProxy(agent, ['client', '-p', '0', '-n', 'app', '--socks-password-file', file]);
		after(() => proxy.cli.stop());
		const target = `http://127.0.0.1:${web.port}/x`;
		const good = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			'-U',
			'app-idle-30s:correct horse',
			target,
		]);
		assert.deepEqual([good.code, good.stdout], [0, 'hello /x']);
		const wrong = await curl(['--socks5-hostname', `127.0.0.1:${proxy.port}`, '-U', 'app:wrong', target]);
		assert.equal(wrong.code, 97);
		const otherName = await curl([
			'--socks5-hostname',
			`127.0.0.1:${proxy.port}`,
			'-U',
			'bob:correct horse',
			target,
		]);
		assert.equal(otherName.code, 97);
		const http = await curl(['-i', '-x', `http://127.0.0.1:${proxy.port}`, target]);
		assert.match(http.stdout, /^HTTP\/1\.1 407/);
		assert.match(http.stdout, /Proxy-Authenticate: Basic realm="berth"/i);
		const httpGood = await curl(['-x', `http://127.0.0.1:${proxy.port}`, '-U', 'app:correct horse', target]);
		assert.equal(httpGood.stdout, 'hello /x');
	});

	it('warns that -w shows the password in the process list, and refuses -n without a password', async () => {
		const proxy = await startProxy(agent, ['client', '-p', '0', '-w', 'visible-password']);
		after(() => proxy.cli.stop());
		await proxy.cli.waitForStderr(/-w puts the proxy password in the process list/);
		const noPassword = spawnCli(['client', '-p', '0', '-n', 'app', '-u', agent.url, '--no-token']);
		assert.equal(await noPassword.exited, 2);
		assert.match(noPassword.stderr.join('\n'), /-n NAME needs a password/);
	});
});

/** Whether a UDP port can be bound (nobody holds it); undefined while it cannot, for waitFor. */
function canBindUdp(host: string, port: number): Promise<true | undefined> {
	return new Promise((resolve) => {
		const socket = createSocket('udp4');
		socket.once('error', () => {
			socket.close();
			resolve(undefined);
		});
		socket.bind(port, host, () => socket.close(() => resolve(true)));
	});
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}
