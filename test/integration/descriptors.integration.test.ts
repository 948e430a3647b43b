import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startAgent, startForward, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { serve } from '../helpers/net';
import { waitFor } from '../helpers/wait';

const DOWNLOAD_BYTES = 1024 * 1024;
const WORKERS = 16;
const ROUNDS = 40;
/** An abort comes 0 up to this many ms after the first bytes (varying), as in the soak. */
const ABORT_SPREAD_MS = 10;

function openFds(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).length;
}

/** A target that sends DOWNLOAD_BYTES to every connection, then ends it. */
function startDownloads(): ReturnType<typeof serve> {
	return serve((socket) => {
		const block = Buffer.alloc(64 * 1024, 7);
		let sent = 0;
		const pump = (): void => {
			while (socket.writable && sent < DOWNLOAD_BYTES) {
				sent += block.length;
				if (!socket.write(block)) {
					return;
				}
			}
			socket.end();
		};
		socket.on('drain', pump);
		pump();
	});
}

/** Connects through the forward, and aborts (RST, or a close with bytes unread) mid-download. */
function abortMidway(port: number, round: number): Promise<void> {
	return new Promise((resolve) => {
		const socket = connect({ port, host: '127.0.0.1' });
		socket.on('error', () => resolve());
		socket.once('data', () =>
			setTimeout(() => {
				if (round % 2 === 0) {
					socket.resetAndDestroy();
				} else {
					socket.destroy();
				}
				resolve();
			}, round % ABORT_SPREAD_MS),
		);
	});
}

/**
 * The soak found the agent keeping descriptors after connections aborted mid-download: the
 * forward may read the RST first as EOF (End) and then fail its next write (Reset), and a Reset
 * right after an End made libuv refuse the socket's reset and Node drop it unclosed. Before the
 * fix this run left dozens of descriptors open on the agent.
 */
describe('descriptors: aborted downloads through a forward', () => {
	let target: Awaited<ReturnType<typeof startDownloads>>;
	let agent: AgentProcess;
	let cli: CliProcess;
	let port: number;

	before(async () => {
		target = await startDownloads();
		agent = await startAgent();
		const forward = await startForward(agent, ['-L', `0:127.0.0.1:${target.port}`]);
		cli = forward.cli;
		port = forward.ports[0]!;
	});
	after(async () => {
		await cli.stop();
		await agent.stop();
		await target.close();
	});

	it('leaves the agent and the forward with the descriptors they had before', async () => {
		const pids = { agent: agent.child.pid!, forward: cli.child.pid! };
		const baseline = { agent: openFds(pids.agent), forward: openFds(pids.forward) };
		const worker = async (w: number): Promise<void> => {
			for (let round = 0; round < ROUNDS; round++) {
				await abortMidway(port, round + w);
			}
		};
		await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
		const now = { agent: 0, forward: 0 };
		await waitFor(
			() => {
				now.agent = openFds(pids.agent);
				now.forward = openFds(pids.forward);
				return now.agent <= baseline.agent && now.forward <= baseline.forward;
			},
			'the descriptors to come back',
			10_000,
		).catch(() => undefined);
		assert.deepEqual(now, baseline, 'open descriptors after every connection closed, against the baseline');
	});
});
