import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { BulkMode, bulkConnection, startBulkTarget } from '../helpers/bulk';
import { FaultProxy } from '../helpers/fault-proxy';
import { startAgent, startForward, type AgentProcess } from '../helpers/agent-process';
import { freePort, startEchoServer } from '../helpers/net';
import { socksConnect } from '../helpers/proxy-clients';
import { startUdpEcho, udpAssociate } from '../helpers/proxy-modes';
import { SocksClient } from 'socks';
import { waitFor, within } from '../helpers/wait';

/**
 * Streams that survive network drops (issue 13): a FaultProxy sits between `berth forward` and the
 * agent, and cuts, half-cuts or silences the session's socket under live traffic. Every stream
 * must go on byte-exact; connections are lost only when the agent no longer holds the session.
 */

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
/** Cuts in the long transfers, at random points: each after 256 KiB to 8 MiB more through the proxy. */
const CUTS = 100;
const MIN_CUT_AFTER_BYTES = 256 * 1024;
const MAX_CUT_AFTER_BYTES = 8 * MIB;

/** The agent as the client sees it through `proxy`: same token, the proxy's port. */
function through(agent: AgentProcess, proxy: FaultProxy): AgentProcess {
	return { ...agent, url: agent.url.replace(`:${agent.port}`, `:${proxy.port}`) };
}

function randomCutPoint(): number {
	return MIN_CUT_AFTER_BYTES + Math.floor(Math.random() * (MAX_CUT_AFTER_BYTES - MIN_CUT_AFTER_BYTES));
}

/** Cuts the proxy's connections `count` times, each after a random number of bytes; resolves with the cuts made. */
async function cutRepeatedly(proxy: FaultProxy, count: number, done: () => boolean): Promise<number> {
	let cuts = 0;
	while (cuts < count && !done()) {
		if (await proxy.cutAfterBytes(randomCutPoint())) {
			cuts++;
		}
	}
	return cuts;
}

function dial(port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
		socket.once('error', reject);
	});
}

/** Sends one byte and resolves with the byte echoed back. */
function pingPong(socket: Socket, byte: number): Promise<number> {
	return new Promise((resolve, reject) => {
		const onData = (data: Buffer) => {
			socket.off('error', reject);
			resolve(data[0]!);
		};
		socket.once('data', onData);
		socket.once('error', reject);
		socket.write(Buffer.from([byte]));
	});
}

/** Moves `bytes` through one connection to the bulk target and reports the rate in MiB/s. */
async function timedTransfer(port: number, mode: BulkMode, id: number, bytes: number) {
	const started = process.hrtime.bigint();
	const outcome = await bulkConnection(port, mode, id, bytes);
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	return { outcome, mibPerSecond: bytes / MIB / seconds };
}

describe('streams survive network drops', () => {
	let bulk: Awaited<ReturnType<typeof startBulkTarget>>;
	before(async () => {
		bulk = await startBulkTarget(GIB);
	});
	after(async () => {
		await bulk.close();
	});

	async function rig(t: TestContext, specs: (target: number) => string[], agentArgs: string[] = []) {
		const agent = await startAgent({ args: agentArgs });
		t.after(() => agent.stop());
		const proxy = await FaultProxy.start({ targetPort: agent.port });
		t.after(() => proxy.dispose());
		const { cli, ports } = await startForward(through(agent, proxy), specs(bulk.port));
		t.after(() => cli.stop());
		return { agent, proxy, cli, ports };
	}

	it(`-L: 1 GiB upload arrives byte-exact across ${CUTS} cuts at random points`, async (t) => {
		const { proxy, cli, ports } = await rig(t, (target) => ['-L', `0:127.0.0.1:${target}`]);
		const uncut = await timedTransfer(ports[0]!, BulkMode.Upload, 1, GIB);
		assert.equal(uncut.outcome, 'exact');
		let finished = false;
		const transfer = timedTransfer(ports[0]!, BulkMode.Upload, 2, GIB).finally(() => (finished = true));
		const cuts = await cutRepeatedly(proxy, CUTS, () => finished);
		const cut = await transfer;
		assert.equal(cut.outcome, 'exact', 'the transfer across the cuts arrived byte-exact');
		assert.equal(cuts, CUTS, 'every cut fell inside the transfer');
		assert.ok(proxy.accepted > CUTS, 'the client came back after every cut');
		assert.ok(!cli.stderr.some((l) => /connections were lost/.test(l)), 'no session was lost');
		t.diagnostic(
			`uncut ${uncut.mibPerSecond.toFixed(0)} MiB/s; across ${CUTS} cuts ${cut.mibPerSecond.toFixed(0)} MiB/s (${(cut.mibPerSecond / uncut.mibPerSecond).toFixed(2)}x)`,
		);
	});

	it(`-R: 1 GiB upload through the agent's port arrives byte-exact across ${CUTS} cuts`, async (t) => {
		const { proxy, cli, ports } = await rig(t, (target) => ['-R', `0:127.0.0.1:${target}`]);
		const agentPort = ports[0]!;
		const uncut = await timedTransfer(agentPort, BulkMode.Upload, 3, GIB);
		assert.equal(uncut.outcome, 'exact');
		let finished = false;
		const transfer = timedTransfer(agentPort, BulkMode.Upload, 4, GIB).finally(() => (finished = true));
		const cuts = await cutRepeatedly(proxy, CUTS, () => finished);
		const cut = await transfer;
		assert.equal(cut.outcome, 'exact', 'the transfer across the cuts arrived byte-exact');
		assert.equal(cuts, CUTS, 'every cut fell inside the transfer');
		assert.ok(!cli.stderr.some((l) => /connections were lost/.test(l)), 'no session was lost');
		t.diagnostic(
			`uncut ${uncut.mibPerSecond.toFixed(0)} MiB/s; across ${CUTS} cuts ${cut.mibPerSecond.toFixed(0)} MiB/s (${(cut.mibPerSecond / uncut.mibPerSecond).toFixed(2)}x)`,
		);
	});

	it('an interactive stream survives a 30 s black hole (found by KeepAlive, not TCP) and goes on', async (t) => {
		const echo = await startEchoServer();
		t.after(() => echo.close());
		const { agent, proxy, cli, ports } = await rig(t, () => ['-L', `0:127.0.0.1:${echo.port}`]);
		const socket = await dial(ports[0]!);
		t.after(() => socket.destroy());
		for (let i = 0; i < 100; i++) {
			assert.equal(await pingPong(socket, i), i);
		}
		const holeStarted = Date.now();
		proxy.blackhole(true);
		// Sent into the hole: it must arrive once the session is back, not be lost with the socket.
		const answered = pingPong(socket, 200);
		// Both ends find the silent path by KeepAlive (20 s without a byte), well before TCP would.
		await cli.waitForStderr(/connection to the agent lost; reconnecting \(connections held/, 40_000);
		await agent.waitForLog(/connection lost; waiting for the client to reconnect.*timeout/, 40_000);
		await waitFor(
			() => Date.now() - holeStarted >= BLACK_HOLE_MS || undefined,
			'the hole to last 30 s',
			60_000,
		);
		proxy.blackhole(false);
		assert.equal(await within(answered, 60_000, 'the byte sent into the hole'), 200);
		for (let i = 0; i < 100; i++) {
			assert.equal(await pingPong(socket, i), i);
		}
		assert.ok(!cli.stderr.some((l) => /connections were lost/.test(l)), 'no session was lost');
	});

	it('a SOCKS5 stream and a UDP association survive a cut', async (t) => {
		const echo = await startEchoServer();
		t.after(() => echo.close());
		const udpEcho = await startUdpEcho('127.0.0.1');
		t.after(() => udpEcho.close());
		const { proxy, cli } = await rig(t, () => ['-D', '0']);
		const line = await cli.waitForStdout(/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/, 15_000);
		const proxyPort = Number(line[1]);
		const socket = await socksConnect(proxyPort, '127.0.0.1', echo.port);
		t.after(() => socket.destroy());
		const udp = await udpClient(proxyPort, udpEcho.port);
		t.after(() => udp.close());
		assert.equal(await pingPong(socket, 1), 1);
		assert.equal(await udp.echo('before'), 'echo:before');
		const connections = proxy.accepted;
		proxy.cut();
		await waitFor(() => proxy.accepted > connections || undefined, 'the client to come back', 30_000);
		assert.equal(await pingPong(socket, 2), 2, 'the SOCKS5 stream goes on');
		assert.equal(await udp.echo('after'), 'echo:after', 'the UDP association goes on');
		assert.ok(!cli.stderr.some((l) => /connections were lost/.test(l)), 'no session was lost');
	});

	it('after an agent restart, held connections reset with the reason, and new ones work', async (t) => {
		const echo = await startEchoServer();
		t.after(() => echo.close());
		const port = await freePort();
		const token = 'resume-restart-token-0123';
		const first = await startAgent({ token, args: ['--port', String(port)] });
		const proxy = await FaultProxy.start({ targetPort: port });
		t.after(() => proxy.dispose());
		const { cli, ports } = await startForward(through(first, proxy), ['-L', `0:127.0.0.1:${echo.port}`]);
		t.after(() => cli.stop());
		const socket = await dial(ports[0]!);
		assert.equal(await pingPong(socket, 1), 1);
		const reset = new Promise<string>((resolve) =>
			socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')),
		);
		// Killed: no goodbye, so the client tries to resume a session the new agent never saw.
		await first.stop('SIGKILL');
		const second = await startAgent({ token, args: ['--port', String(port)] });
		t.after(() => second.stop());
		await cli.waitForStderr(/the agent restarted; connections were lost/, 30_000);
		assert.equal(await within(reset, 10_000, 'the held connection to reset'), 'ECONNRESET');
		await cli.waitForStderr(/connected to the agent again; forwards restored/, 30_000);
		const fresh = await dial(ports[0]!);
		t.after(() => fresh.destroy());
		assert.equal(await pingPong(fresh, 7), 7);
	});

	it('past the grace time the session is gone: connections reset with the reason, and a new session serves', async (t) => {
		const echo = await startEchoServer();
		t.after(() => echo.close());
		const { agent, proxy, cli, ports } = await rig(t, () => ['-L', `0:127.0.0.1:${echo.port}`], [
			'--reconnection-grace-time',
			'1',
		]);
		const socket = await dial(ports[0]!);
		assert.equal(await pingPong(socket, 1), 1);
		const reset = new Promise<string>((resolve) =>
			socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')),
		);
		proxy.refuse(true);
		proxy.cut();
		await agent.waitForLog(/did not come back within the grace time/, 30_000);
		proxy.refuse(false);
		await cli.waitForStderr(/connections were lost/, 60_000);
		assert.equal(await within(reset, 10_000, 'the held connection to reset'), 'ECONNRESET');
		await cli.waitForStderr(/connected to the agent again; forwards restored/, 60_000);
		const fresh = await dial(ports[0]!);
		t.after(() => fresh.destroy());
		assert.equal(await pingPong(fresh, 9), 9);
	});
});

/** How often a datagram whose echo has not come is sent again. */
const UDP_RESEND_MS = 200;
/** How long the black hole lasts: longer than the session's 20 s timeout, as a dead NAT entry. */
const BLACK_HOLE_MS = 30_000;

/** A UDP association through a SOCKS5 proxy, and one echo through it at a time. */
async function udpClient(proxyPort: number, echoPort: number) {
	const { control, relay } = await udpAssociate(proxyPort);
	const target = createSocket('udp4');
	await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));
	const replies: string[] = [];
	target.on('message', (message) => replies.push(String(SocksClient.parseUDPFrame(message).data)));
	return {
		/** Sends `text` until its echo comes back (a datagram may be lost, as UDP's may). */
		async echo(text: string): Promise<string> {
			const frame = SocksClient.createUDPFrame({
				remoteHost: { host: '127.0.0.1', port: echoPort },
				data: Buffer.from(text),
			});
			// Sent again every 200 ms until its echo is back.
			return waitFor(
				() => {
					target.send(frame, relay.port, relay.host);
					return replies.find((r) => r === `echo:${text}`);
				},
				`the echo of ${text}`,
				30_000,
				UDP_RESEND_MS,
			);
		},
		close(): void {
			target.close();
			control.destroy();
		},
	};
}

describe('a client that crashed and started again', () => {
	it('gets its -R port back from its own waiting session at once, not after the grace time', async (t) => {
		const echo = await startEchoServer();
		t.after(() => echo.close());
		const agent = await startAgent();
		t.after(() => agent.stop());
		const port = await freePort();
		const first = await startForward(agent, ['-R', `${port}:127.0.0.1:${echo.port}`]);
		// Killed: no goodbye, so the agent holds its session (and its listener) for the grace time.
		await first.cli.stop('SIGKILL');
		await agent.waitForLog(/connection lost; waiting for the client to reconnect/);
		const second = await startForward(agent, ['-R', `${port}:127.0.0.1:${echo.port}`]);
		t.after(() => second.cli.stop());
		assert.equal(second.ports[0], port);
		await agent.waitForLog(/asks for its port: ending this waiting session/);
		const socket = await dial(port);
		t.after(() => socket.destroy());
		assert.equal(await pingPong(socket, 5), 5);
	});
});
