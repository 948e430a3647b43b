import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
	MUX_RECEIVE_BUDGET_BYTES,
	STREAM_MIN_WINDOW_BYTES,
	STREAM_WINDOW_BYTES,
} from '../../protocol/constants';
import type { MuxStream } from '../../protocol/mux-stream';
import { parseAgentUrl, StreamForwarder, StreamSession } from '../../server/client';
import type { ForwardInfo } from '../../protocol/rpc';
import type { AgentEndpoint } from '../../server/client/dial';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { spawnCli, startAgent, startForward, tempDir, type AgentProcess } from '../helpers/agent-process';
import { freePort, readAll, serve, sha256, startEchoServer } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';

/** A server that writes to every connection as fast as the connection takes it, forever. */
function startFirehose(): ReturnType<typeof serve> {
	return serve((socket) => {
		const block = Buffer.alloc(64 * 1024, 7);
		const pump = () => {
			while (socket.writable && socket.write(block)) {
				/* until the kernel buffer is full */
			}
		};
		socket.on('drain', pump);
		pump();
	});
}

/** How the library reaches a test agent: raw TCP, verified with its token. */
function endpointOf(agent: AgentProcess): AgentEndpoint {
	return {
		address: parseAgentUrl(agent.url),
		token: agent.token,
		mode: 'tcp',
		peer: 'berth',
		timers: createNodeTimers(),
	};
}

/**
 * Connects and resolves once the peer closed or reset the connection. A reset that beats this
 * side's own connect callback (a refused stream resets at once) counts too.
 */
function refusedPromptly(port: number): Promise<void> {
	return dial(port).then(closedByPeer, (error: NodeJS.ErrnoException) =>
		assert.equal(error.code, 'ECONNRESET'),
	);
}

/** Resolves when the peer closed or reset the connection. */
function closedByPeer(socket: Socket): Promise<void> {
	return new Promise((resolve) => {
		socket.on('error', () => resolve());
		socket.on('end', () => resolve());
		socket.on('close', () => resolve());
	});
}

function dial(port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
		socket.once('connect', () => resolve(socket));
		socket.once('error', reject);
	});
}

/** Starts `berth forward` with the given -L/-R specs and returns the ports it printed, in order. */
const forward = startForward;

describe('streams: forwarding through one session', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('carries 100 MiB each way at once, byte-exact', async () => {
		const up = randomBytes(100 * 1024 * 1024);
		const down = randomBytes(100 * 1024 * 1024);
		let arrivedUp = '';
		const target = await serve((socket) => {
			const hash = createHash('sha256');
			socket.on('data', (c: Buffer) => hash.update(c));
			socket.on('end', () => {
				arrivedUp = hash.digest('hex');
				socket.end();
			});
			socket.write(down);
		});
		const { cli, ports } = await forward(agent, ['-L', `0:127.0.0.1:${target.port}`]);
		try {
			const socket = await dial(ports[0]!);
			const received = readAll(socket);
			socket.end(up);
			const got = await within(received, 60_000, '100 MiB down');
			assert.equal(got.length, down.length);
			assert.equal(sha256(got), sha256(down), 'down: byte-exact');
			await waitFor(() => arrivedUp, 'the upload to be hashed');
			assert.equal(arrivedUp, sha256(up), 'up: byte-exact');
		} finally {
			await cli.stop();
			await target.close();
		}
	});

	it('carries 200 parallel streams of mixed sizes', async () => {
		const echo = await startEchoServer();
		const { cli, ports } = await forward(agent, ['-L', `0:127.0.0.1:${echo.port}`]);
		try {
			const sizes = Array.from({ length: 200 }, (_, i) => [1, 100, 4096, 65_537, 300_000, 1_500_000][i % 6]!);
			await Promise.all(
				sizes.map(async (size) => {
					const data = randomBytes(size);
					const socket = await dial(ports[0]!);
					const received = readAll(socket);
					socket.end(data);
					const got = await received;
					assert.equal(sha256(got), sha256(data), `a ${size}-byte stream came back intact`);
				}),
			);
			await agent.waitForLog(/type=Mux .*outcome=accepted/);
		} finally {
			await cli.stop();
			await echo.close();
		}
	});

	it('half-closes: the client shuts its write side and still gets the late reply', async () => {
		const target = await serve((socket) => {
			const chunks: Buffer[] = [];
			socket.on('data', (c: Buffer) => chunks.push(c));
			socket.on('end', () => socket.end(`got ${Buffer.concat(chunks).toString()} after your FIN`));
		});
		for (const transport of ['tcp', 'websocket']) {
			const { cli, ports } = await forward(
				agent,
				['-L', `0:127.0.0.1:${target.port}`],
				['--transport', transport],
			);
			try {
				const socket = await dial(ports[0]!);
				const reply = readAll(socket);
				socket.end('question');
				assert.equal(
					(await within(reply, 10_000, 'the late reply')).toString(),
					'got question after your FIN',
					transport,
				);
			} finally {
				await cli.stop();
			}
		}
		await target.close();
	});

	it('keeps a second stream moving 50 MiB while the first one’s reader is stalled, within its window', async () => {
		const firehose = await startFirehose();
		const fifty = randomBytes(50 * 1024 * 1024);
		const sink = await serve((socket) => socket.end(fifty));
		const { session } = await StreamSession.connect(endpointOf(agent));
		try {
			const stalled = session.open({ kind: 'tcp', host: '127.0.0.1', port: firehose.port });
			let stalledBytes = 0;
			stalled.attach(holdingHandler(stalled, (n) => (stalledBytes += n)));
			await waitFor(() => stalledBytes >= STREAM_WINDOW_BYTES, 'the stalled stream to fill its window');

			const busy = session.open({ kind: 'tcp', host: '127.0.0.1', port: sink.port });
			const hash = createHash('sha256');
			let busyBytes = 0;
			const done = new Promise<void>((resolve, reject) =>
				busy.attach({
					onData: (c) => {
						hash.update(c);
						busyBytes += c.byteLength;
						busy.setBuffered(0);
					},
					onEnd: () => resolve(),
					onReset: (reset) => reject(new Error(reset.reason)),
					onDrain: () => undefined,
				}),
			);
			busy.end();
			await within(done, 60_000, '50 MiB on the second stream');
			assert.equal(busyBytes, fifty.length);
			assert.equal(hash.digest('hex'), sha256(fifty));
			assert.equal(
				stalledBytes,
				STREAM_WINDOW_BYTES,
				'the stalled stream received exactly its window, no more',
			);
		} finally {
			session.close();
			await firehose.close();
			await sink.close();
		}
	});

	it('stays healthy with 150 stalled streams at once (bounded buffers, prompt acks)', async () => {
		const firehose = await startFirehose();
		const { session } = await StreamSession.connect(endpointOf(agent));
		try {
			let held = 0;
			const streams = Array.from({ length: 150 }, () =>
				session.open({ kind: 'tcp', host: '127.0.0.1', port: firehose.port }),
			);
			for (const stream of streams) {
				stream.attach(holdingHandler(stream, (n) => (held += n)));
			}
			// The stalled readers fill the session's receive budget; past it each stream keeps only its
			// minimum window. (Without the budget, 150 full windows would arrive: 150 MiB.)
			const bound = MUX_RECEIVE_BUDGET_BYTES + 150 * STREAM_MIN_WINDOW_BYTES;
			await waitFor(
				() => held >= MUX_RECEIVE_BUDGET_BYTES - STREAM_WINDOW_BYTES,
				'the stalled streams to fill the budget',
				20_000,
			);
			for (let i = 0; i < 3; i++) {
				await session.rpc.request('ping', {}); // round trips during which any excess would arrive
			}
			assert.ok(
				held <= bound,
				`buffers bounded by the budget and a minimum window per stream (${held} > ${bound})`,
			);
			assert.ok(!agent.stderr.some((l) => /session failed/.test(l)), 'no session gave up');
		} finally {
			session.close();
			await firehose.close();
		}
	});

	it('reports a refused target in words, closes that one socket, and keeps the other forwards working', async () => {
		const closed = await freePort();
		const echo = await startEchoServer();
		const { cli, ports } = await forward(agent, [
			'-L',
			`0:127.0.0.1:${closed}`,
			'-L',
			`0:127.0.0.1:${echo.port}`,
		]);
		try {
			await within(refusedPromptly(ports[0]!), 5_000, 'the refused connection to close');
			await cli.waitForStderr(new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}`));
			await agent.waitForLog(new RegExp(`stream refused target=127\\.0\\.0\\.1:${closed}`));
			const ok = await dial(ports[1]!);
			const reply = readAll(ok);
			ok.end('still here');
			assert.equal((await reply).toString(), 'still here');
		} finally {
			await cli.stop();
			await echo.close();
		}
	});

	it('fails a forward whose local port is taken, with a message, and runs the others', async () => {
		const taken = await serve(() => undefined);
		const echo = await startEchoServer();
		const tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, agent.token + '\n');
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFile,
			'-L',
			`${taken.port}:127.0.0.1:${echo.port}`,
			'-L',
			`0:127.0.0.1:${echo.port}`,
		]);
		try {
			await cli.waitForStderr(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken.port}: EADDRINUSE`));
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) ->/);
			const socket = await dial(Number(line[1]));
			const reply = readAll(socket);
			socket.end('ping');
			assert.equal((await reply).toString(), 'ping');
		} finally {
			await cli.stop();
			await taken.close();
			await echo.close();
		}
	});

	it('refuses a target the agent’s policy denies, and says which rule', async () => {
		const echo = await startEchoServer();
		const other = await startEchoServer();
		const strict = await startAgent({ args: ['--deny', `127.0.0.1:${echo.port}`] });
		const { cli, ports } = await forward(strict, [
			'-L',
			`0:127.0.0.1:${echo.port}`,
			'-L',
			`0:localhost:${other.port}`,
		]);
		try {
			await within(refusedPromptly(ports[0]!), 5_000, 'the denied connection to close');
			await cli.waitForStderr(/refused by the agent's policy \(--deny 127\.0\.0\.1:\d+\)/);
			const ok = await dial(ports[1]!);
			const reply = readAll(ok);
			ok.end('allowed');
			assert.equal((await reply).toString(), 'allowed');
		} finally {
			await cli.stop();
			await strict.stop();
			await echo.close();
			await other.close();
		}
	});

	it('-R: a connection to the agent’s port reaches a service on the client’s side', async () => {
		const service = createHttpServer((_req, res) => res.end('served from the client side'));
		await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
		const servicePort = (service.address() as AddressInfo).port;
		const { cli, ports } = await forward(agent, ['-R', `0:127.0.0.1:${servicePort}`]);
		try {
			assert.match(cli.stdout.join('\n'), /^Forwarding agent 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ here/m);
			const response = await fetch(`http://127.0.0.1:${ports[0]}/`);
			assert.equal(await response.text(), 'served from the client side');
			await agent.waitForLog(/remote forward listening/);
		} finally {
			await cli.stop();
			service.close();
		}
	});

	it('keeps its listener through an agent restart and forwards again once reconnected', async () => {
		const port = await freePort();
		const token = 'restart-token-0123';
		const first = await startAgent({ token, args: ['--port', String(port)] });
		const echo = await startEchoServer();
		const { cli, ports } = await forward(first, ['-L', `0:127.0.0.1:${echo.port}`]);
		try {
			assert.equal(await first.stop(), 0);
			await cli.waitForStderr(/connection to the agent lost; reconnecting/);
			const second = await startAgent({ token, args: ['--port', String(port)] });
			try {
				await cli.waitForStderr(/connected to the agent again/, 20_000);
				const socket = await dial(ports[0]!);
				const reply = readAll(socket);
				socket.end('after the restart');
				assert.equal((await reply).toString(), 'after the restart');
			} finally {
				await second.stop();
			}
		} finally {
			await cli.stop();
			await echo.close();
		}
	});
});

describe('the client’s forwarder', () => {
	it('counts connections and bytes of a local forward, live, and announces changes', async () => {
		const agent = await startAgent();
		const echo = await startEchoServer();
		const forwarder = await StreamForwarder.start(endpointOf(agent));
		try {
			const changes: ForwardInfo[] = [];
			forwarder.onDidChange((info) => changes.push(info));
			const info = await forwarder.addLocal({
				bind: '127.0.0.1',
				localPort: 0,
				host: '127.0.0.1',
				port: echo.port,
			});
			assert.equal(info.direction, 'local');
			assert.equal(info.state, 'active');
			const socket = await dial(info.bindPort);
			socket.write(Buffer.alloc(100_000, 1));
			let echoed = 0;
			socket.on('data', (c: Buffer) => (echoed += c.length));
			await waitFor(() => echoed === 100_000, 'the echo');
			const open = await waitFor(
				() => forwarder.list().find((f) => f.id === info.id && f.counters.bytesIn === 100_000),
				'live counters while the connection is open',
			);
			assert.deepEqual(
				{ open: open.counters.open, total: open.counters.total, bytesOut: open.counters.bytesOut },
				{ open: 1, total: 1, bytesOut: 100_000 },
			);
			await waitFor(
				() => changes.some((c) => c.id === info.id && c.counters.bytesOut === 100_000),
				'a change event with the counters',
			);
			socket.end();
			await waitFor(
				() => forwarder.list().find((f) => f.id === info.id)?.counters.open === 0,
				'the connection to be counted closed',
			);
			await forwarder.remove(info.id);
			assert.deepEqual(forwarder.list(), []);
			assert.equal(changes.at(-1)?.state, 'closed');
		} finally {
			forwarder.dispose();
			await echo.close();
			await agent.stop();
		}
	});
});

describe('agent RPC for forwards and ports', () => {
	let agent: AgentProcess;
	let session: StreamSession;
	before(async () => {
		agent = await startAgent();
		({ session } = await StreamSession.connect(endpointOf(agent)));
	});
	after(async () => {
		session.close();
		await agent.stop();
	});

	it('lists a port the test starts listening on, with its pid, within 2 s; and says when it goes', async () => {
		const before = await session.rpc.request('listeningPorts', {});
		const changes: { added: { port: number }[]; removed: { port: number }[] }[] = [];
		session.rpc.onDidReceiveEvent((e) => {
			if (e.event === 'portsChanged') {
				changes.push(e.data as never);
			}
		});
		const server = createServer();
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		after(() => server.close()); // a failure below must not leave the test process listening
		const port = (server.address() as AddressInfo).port;
		assert.ok(!before.ports.some((p) => p.port === port));
		const listed = await within(
			waitFor(
				async () => (await session.rpc.request('listeningPorts', {})).ports.find((p) => p.port === port),
				'the new port in listeningPorts',
				2_000,
			),
			2_500,
			'listeningPorts',
		);
		assert.equal(listed.pid, process.pid);
		assert.equal(listed.host, '127.0.0.1');
		assert.match(listed.command ?? '', /node/);
		await waitFor(
			() => changes.some((c) => c.added.some((p) => p.port === port)),
			'a portsChanged event (added)',
			6_000,
		);
		server.close();
		await waitFor(
			() => changes.some((c) => c.removed.some((p) => p.port === port)),
			'a portsChanged event (removed)',
			6_000,
		);
	});

	it('adds, lists and removes a remote forward, with counters and events', async () => {
		const events: { id: string; state: string; counters: { total: number } }[] = [];
		session.rpc.onDidReceiveEvent((e) => {
			if (e.event === 'forwardChanged') {
				events.push(e.data as never);
			}
		});
		const info = await session.rpc.request('addForward', {
			bindPort: 0,
			targetHost: '127.0.0.1',
			targetPort: 9,
		});
		assert.equal(info.direction, 'remote');
		assert.equal(info.bindHost, '127.0.0.1');
		assert.ok(info.bindPort > 0);
		assert.equal(info.state, 'active');
		assert.deepEqual(
			(await session.rpc.request('listForwards', {})).forwards.map((f) => f.id),
			[info.id],
		);
		// Nobody on this client answers the agent's streams: the connection is refused (a reset
		// that can even beat the connect callback), and counted.
		await within(refusedPromptly(info.bindPort), 5_000, 'the unanswered connection to close');
		await waitFor(
			() => events.some((e) => e.id === info.id && e.counters.total === 1),
			'counters in a forwardChanged event',
			5_000,
		);
		await session.rpc.request('removeForward', { id: info.id });
		assert.deepEqual((await session.rpc.request('listForwards', {})).forwards, []);
		assert.ok(events.some((e) => e.id === info.id && e.state === 'closed'));
		await assert.rejects(session.rpc.request('removeForward', { id: info.id }), /no forward with id/);
	});

	it('refuses a remote forward on a non-loopback address unless the agent allows it', async () => {
		await assert.rejects(
			session.rpc.request('addForward', { bindHost: '0.0.0.0', bindPort: 0, targetHost: 'h', targetPort: 1 }),
			/--allow-remote-bind/,
		);
	});
});

/** A handler that takes bytes but never lets them go: a stalled reader. */
function holdingHandler(stream: MuxStream, onBytes: (n: number) => void) {
	let held = 0;
	return {
		onData: (c: Uint8Array) => {
			held += c.byteLength;
			onBytes(c.byteLength);
			stream.setBuffered(held);
		},
		onEnd: () => undefined,
		onReset: () => undefined,
		onDrain: () => undefined,
	};
}
