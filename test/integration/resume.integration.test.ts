import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { BulkMode, bulkConnection, startBulkTarget } from '../helpers/bulk';
import { FaultProxy } from '../helpers/fault-proxy';
import { startAgent, startForward, type AgentProcess } from '../helpers/agent-process';
import { freePort, startEchoServer } from '../helpers/net';
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
});
