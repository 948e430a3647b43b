import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { httpThrough, startHttpTarget } from '../helpers/http-target';
import { freePort, readAll, sha256, startEchoServer } from '../helpers/net';
import { within } from '../helpers/wait';
import { WireClient } from '../helpers/wire-client';

/**
 * Forwarding on the real dist/server.js: through `berth forward` (raw TCP and WebSocket frames;
 * however the CLI carries each connection to a Berth agent), and Tunnel (3) connections spoken
 * directly on the wire.
 */

const UPLOAD_BYTES = 10 * 1024 * 1024;

/**
 * A TCP target that answers only once it saw the client's FIN ("late reply"), and records what
 * arrived on connections where it closed its own side first.
 */
async function startHalfCloseTarget(): Promise<{ port: number; server: Server; lateData: Promise<string> }> {
	let resolveLate!: (text: string) => void;
	const lateData = new Promise<string>((resolve) => (resolveLate = resolve));
	const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
		socket.on('error', () => undefined);
		const chunks: Buffer[] = [];
		let mode: 'reply-after-fin' | 'fin-first' | undefined;
		socket.on('data', (chunk: Buffer) => {
			chunks.push(chunk);
			if (mode === undefined) {
				mode = chunk.toString().startsWith('FIN-FIRST') ? 'fin-first' : 'reply-after-fin';
				if (mode === 'fin-first') {
					socket.end('target done writing'); // our FIN first; the client may still talk
				}
			}
		});
		socket.on('end', () => {
			const received = Buffer.concat(chunks).toString();
			if (mode === 'fin-first') {
				resolveLate(received);
				return;
			}
			socket.end(`late reply to ${JSON.stringify(received)}`);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { port: (server.address() as AddressInfo).port, server, lateData };
}

async function openSocket(port: number, allowHalfOpen = true): Promise<Socket> {
	const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	return socket;
}

/** Starts `berth forward` and resolves with its local port for each target port. */
async function startForward(
	url: string,
	targets: number[],
	tokenFile: string,
	extra: string[] = [],
): Promise<{ cli: CliProcess; local: Map<number, number> }> {
	const args = ['forward', '-u', url, '--token-file', tokenFile, ...extra];
	for (const target of targets) {
		args.push('-L', `0:127.0.0.1:${target}`);
	}
	const cli = spawnCli(args);
	const line = /^Forwarding 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+) via /;
	const local = new Map<number, number>();
	for (const target of targets) {
		const m = await cli.waitForStdout(new RegExp(line.source.replace('(\\d+) via', `(${target}) via`)));
		local.set(target, Number(m[1]));
	}
	return { cli, local };
}

describe('berth forward through a Berth agent', () => {
	let agent: AgentProcess;
	let http: Awaited<ReturnType<typeof startHttpTarget>>;
	let half: Awaited<ReturnType<typeof startHalfCloseTarget>>;
	let closedPort: number;
	let tcp: Awaited<ReturnType<typeof startForward>>;
	let websocket: Awaited<ReturnType<typeof startForward>>;

	before(async () => {
		agent = await startAgent();
		http = await startHttpTarget();
		half = await startHalfCloseTarget();
		closedPort = await freePort();
		const tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, agent.token! + '\n', { mode: 0o600 });
		tcp = await startForward(agent.url, [http.port, half.port, closedPort], tokenFile);
		websocket = await startForward(agent.url, [http.port], tokenFile, ['--transport', 'websocket']);
	});
	after(async () => {
		assert.equal(await tcp.cli.stop(), 0);
		assert.equal(await websocket.cli.stop(), 0);
		http.close();
		half.server.close();
		assert.equal(await agent.stop(), 0);
	});

	it('carries an HTTP request to a node:http server and brings back its answer', async () => {
		const answer = await httpThrough(tcp.local.get(http.port)!, '/hello');
		assert.deepEqual(answer, { status: 200, body: 'hello from the target' });
	});

	it('carries a 10 MiB upload that arrives with the same SHA-256', async () => {
		const data = randomBytes(UPLOAD_BYTES);
		const answer = await within(
			httpThrough(tcp.local.get(http.port)!, '/sha256', data),
			20_000,
			'the upload',
		);
		assert.equal(answer.status, 200);
		assert.equal(answer.body, `${UPLOAD_BYTES} ${sha256(data)}`);
	});

	it('passes a half-close through: the client ends its side and still gets the late reply (raw TCP)', async () => {
		const socket = await openSocket(tcp.local.get(half.port)!);
		const reply = readAll(socket);
		socket.write('the request');
		socket.end(); // FIN: the target replies only after it sees this
		const text = (await within(reply, 5_000, 'the late reply')).toString();
		assert.equal(text, 'late reply to "the request"');
	});

	it('passes a half-close through the other way: the target ends first and still gets what the client sends after', async () => {
		const socket = await openSocket(tcp.local.get(half.port)!);
		const received = readAll(socket);
		socket.write('FIN-FIRST;');
		const fromTarget = (await within(received, 5_000, "the target's FIN")).toString();
		assert.equal(fromTarget, 'target done writing');
		socket.end('written after the target closed its side');
		assert.equal(
			await within(half.lateData, 5_000, 'the late data at the target'),
			'FIN-FIRST;written after the target closed its side',
		);
	});

	it('closes the local socket promptly when the target refuses, logs why, and keeps the other forwards working', async () => {
		const localPort = tcp.local.get(closedPort)!;
		for (let attempt = 0; attempt < 2; attempt++) {
			// No half-open: the forward's FIN (or reset) closes this socket as a whole. A reset can
			// even beat this side's own connect callback: that too is a prompt close.
			const started = performance.now();
			const closed = openSocket(localPort, false).then(
				(socket) => {
					socket.on('error', () => undefined);
					socket.resume();
					return new Promise<void>((resolve) => socket.once('close', () => resolve()));
				},
				(error: NodeJS.ErrnoException) => {
					assert.equal(error.code, 'ECONNRESET', 'only a reset may fail the connect');
				},
			);
			await within(closed, 3_000, 'the local socket of a refused target to close');
			const ms = performance.now() - started;
			assert.ok(ms < 2_000, `closed after ${ms.toFixed(0)} ms`);
		}
		const logged = await tcp.cli.waitForStderr(
			new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}\\b`),
		);
		assert.ok(logged.length > 0);
		assert.equal(tcp.cli.child.exitCode, null, 'the forward keeps running');
		const answer = await httpThrough(tcp.local.get(http.port)!, '/hello');
		assert.deepEqual(answer, { status: 200, body: 'hello from the target' }, 'another forward still works');
	});

	it("carries an HTTP request over --transport websocket (frames VS Code's own server cannot forward over)", async () => {
		const answer = await httpThrough(websocket.local.get(http.port)!, '/hello');
		assert.deepEqual(answer, { status: 200, body: 'hello from the target' });
		const data = randomBytes(1024 * 1024);
		const upload = await within(
			httpThrough(websocket.local.get(http.port)!, '/sha256', data),
			10_000,
			'an upload over WebSocket frames',
		);
		assert.equal(upload.body, `${data.byteLength} ${sha256(data)}`);
		// It really went over WebSocket frames: the agent logged an accepted connection that used them.
		await agent.waitForLog(/ transport=websocket outcome=accepted/);
	});
});

describe('Tunnel connections on the wire', () => {
	let agent: AgentProcess;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;

	before(async () => {
		agent = await startAgent();
		echo = await startEchoServer();
	});
	after(async () => {
		await echo.close();
		assert.equal(await agent.stop(), 0);
	});

	for (const framing of ['raw TCP', 'WebSocket frames'] as const) {
		const open = () => (framing === 'raw TCP' ? WireClient.raw(agent.port) : WireClient.ws(agent.port));

		it(`answers ok, then pipes raw bytes both ways (echo), over ${framing}`, async () => {
			const client = await open();
			const { reply } = await client.handshake({
				token: agent.token,
				connectionType: 3,
				args: { host: '127.0.0.1', port: echo.port },
			});
			assert.deepEqual(reply, { type: 'ok' });
			client.startRaw();
			const data = randomBytes(512 * 1024);
			client.write(data.subarray(0, 13)); // less than a message header: must not be parsed
			client.write(data.subarray(13));
			const echoed = await client.readRaw(data.byteLength);
			assert.equal(echoed.byteLength, data.byteLength);
			assert.ok(echoed.equals(data), 'the echo is byte for byte what was sent');
			client.destroy();
		});

		it(`answers a closed port with the connect error and closes, over ${framing}`, async () => {
			const port = await freePort();
			const client = await open();
			const { reply } = await client.handshake({
				token: agent.token,
				connectionType: 3,
				args: { host: '127.0.0.1', port },
			});
			assert.deepEqual(reply, { type: 'error', reason: `connect ECONNREFUSED 127.0.0.1:${port}` });
			await client.waitClosed();
		});
	}

	const invalid: [string, unknown][] = [
		['no port', { host: '127.0.0.1' }],
		['port 0', { host: '127.0.0.1', port: 0 }],
		['port 70000', { host: '127.0.0.1', port: 70000 }],
		['port as a string', { host: '127.0.0.1', port: '80' }],
		['a fractional port', { host: '127.0.0.1', port: 80.5 }],
		['no host', { port: 80 }],
		['an empty host', { host: '', port: 80 }],
		['no args at all', undefined],
	];
	for (const [what, args] of invalid) {
		it(`refuses invalid Tunnel args (${what}) with an error reason, and closes`, async () => {
			const client = await WireClient.raw(agent.port);
			const { reply } = await client.handshake({ token: agent.token, connectionType: 3, args });
			assert.equal(reply['type'], 'error');
			assert.equal(typeof reply['reason'], 'string');
			assert.match(String(reply['reason']), /port/, 'the reason says what a valid request holds');
			await client.waitClosed();
		});
	}

	it('refuses a Tunnel with a bad signature before connecting anywhere', async () => {
		const client = await WireClient.raw(agent.port);
		const { reply } = await client.handshake({
			token: agent.token,
			connectionType: 3,
			args: { host: '127.0.0.1', port: echo.port },
			signature: 'bad',
		});
		assert.deepEqual(reply, { type: 'error', reason: 'Unauthorized client refused' });
		await client.waitClosed();
	});
});
