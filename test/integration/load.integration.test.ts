import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
	MUX_MAX_READ_BYTES,
	MUX_RECEIVE_BUDGET_BYTES,
	MUX_SEND_QUEUE_CAP_BYTES,
	MUX_UNACKED_HIGH_WATER_BYTES,
	STREAM_MIN_WINDOW_BYTES,
} from '../../protocol/constants';
import { startAgent, startForward, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { BulkMode, runBulk, startBulkTarget } from '../helpers/bulk';
import { openFilesLimit, peakRssMiB } from '../helpers/proc';
import { serve, startEchoServer } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';

/**
 * Ordinary load on one session: a browser or a package manager behind a forward opens hundreds of
 * connections at once. Every transfer must arrive byte for byte, no session may fail, no process
 * may exit, and memory must stay within the bound docs/ARCHITECTURE.md ("Memory") states.
 */

/** Parallel connections in the big runs (the hardening issue's figure). */
const STREAMS = 1_000;
/** Bytes each of them moves, each way it moves. */
const BYTES_EACH = 512 * 1024;
const MiB = 1024 * 1024;

/**
 * docs/ARCHITECTURE.md's bound on a Berth process's resident memory with `busy` streams moving
 * data: Node and Berth at rest, the session's fixed budgets, and per busy stream one read queued,
 * one read ahead in its paused socket and its minimum receive window.
 */
function rssBoundMiB(busy: number): number {
	const atRestMiB = 100;
	const sessionBytes = MUX_RECEIVE_BUDGET_BYTES + MUX_UNACKED_HIGH_WATER_BYTES + 2 * MUX_SEND_QUEUE_CAP_BYTES;
	const perStreamBytes = 2 * MUX_MAX_READ_BYTES + STREAM_MIN_WINDOW_BYTES;
	return atRestMiB + (sessionBytes + busy * perStreamBytes) / MiB;
}

/** Every descriptor the test needs: both ends of each connection here, plus the processes' own. */
function assertEnoughOpenFiles(): void {
	const needed = 2 * STREAMS + 200;
	assert.ok(
		openFilesLimit() >= needed,
		`these tests open ${needed} files at once: raise the limit (ulimit -n ${4 * STREAMS}) and run again`,
	);
}

function alive(process: { readonly child: { exitCode: number | null; signalCode: string | null } }): boolean {
	return process.child.exitCode === null && process.child.signalCode === null;
}

function assertNoSessionFailed(agent: AgentProcess, cli: CliProcess): void {
	const failures = [...agent.stderr, ...cli.stderr].filter((l) =>
		/session failed|lost; reconnecting|Error/.test(l),
	);
	assert.deepEqual(failures, [], 'no session failed or was lost');
	assert.ok(alive(agent), 'the agent is still running');
	assert.ok(alive(cli), 'berth forward is still running');
}

function assertMemoryBounded(agent: AgentProcess, cli: CliProcess, busy: number): void {
	const bound = rssBoundMiB(busy);
	for (const [name, pid] of [
		['agent', agent.child.pid!],
		['berth forward', cli.child.pid!],
	] as const) {
		const peak = peakRssMiB(pid);
		assert.ok(
			peak <= bound,
			`${name} peaked at ${peak.toFixed(0)} MiB, over the bound of ${bound.toFixed(0)} MiB`,
		);
	}
}

describe(`${STREAMS} parallel transfers on one session`, () => {
	let agent: AgentProcess;
	before(async () => {
		assertEnoughOpenFiles();
		agent = await startAgent();
	});
	after(async () => {
		assert.equal(await agent.stop(), 0, 'the agent survived and stopped cleanly');
	});

	const cases: { name: string; mode: BulkMode; spec: '-L' | '-R' }[] = [
		{ name: 'downloads through -L', mode: BulkMode.Download, spec: '-L' },
		{
			name: 'uploads through -R (from a local process on the agent host, no token)',
			mode: BulkMode.Upload,
			spec: '-R',
		},
		{ name: 'both directions at once through -L', mode: BulkMode.Both, spec: '-L' },
		{ name: 'both directions at once through -R', mode: BulkMode.Both, spec: '-R' },
	];
	for (const { name, mode, spec } of cases) {
		it(`${name}: all byte-exact, no session lost, memory bounded`, async () => {
			const target = await startBulkTarget(BYTES_EACH);
			const { cli, ports } = await startForward(agent, [spec, `0:127.0.0.1:${target.port}`]);
			try {
				const tally = await within(runBulk(ports[0]!, mode, STREAMS, BYTES_EACH), 180_000, 'the transfers');
				assert.deepEqual(tally, { exact: STREAMS, mismatch: 0, error: 0 });
				assert.equal(target.uploadsBad, 0, 'the target got every upload exactly');
				assertNoSessionFailed(agent, cli);
				assertMemoryBounded(agent, cli, STREAMS);
			} finally {
				assert.equal(await cli.stop(), 0);
				await target.close();
			}
		});
	}
});

describe('streams whose readers never read', () => {
	const DEAF = 100;
	let agent: AgentProcess;
	before(async () => {
		assertEnoughOpenFiles();
		agent = await startAgent();
	});
	after(async () => {
		assert.equal(await agent.stop(), 0);
	});

	it(`leave other streams and new connections unharmed (${DEAF} deaf readers, memory bounded)`, async () => {
		const chunk = Buffer.alloc(MUX_MAX_READ_BYTES, 0x5a);
		// A target that sends as fast as it may, forever.
		const fed: Socket[] = [];
		const firehose = await serve((socket) => {
			fed.push(socket);
			const pump = (): void => {
				while (socket.write(chunk)) {
					/* until the socket is full */
				}
			};
			socket.on('drain', pump);
			pump();
		});
		const target = await startBulkTarget(BYTES_EACH);
		const echo = await startEchoServer();
		const { cli, ports } = await startForward(agent, [
			'-L',
			`0:127.0.0.1:${firehose.port}`,
			'-L',
			`0:127.0.0.1:${target.port}`,
			'-L',
			`0:127.0.0.1:${echo.port}`,
		]);
		const deaf = Array.from({ length: DEAF }, () => {
			const socket = connect({ port: ports[0]!, host: '127.0.0.1' });
			socket.on('error', () => undefined);
			socket.pause(); // never reads
			return socket;
		});
		try {
			// Their streams fill up: every deaf connection's target has sent what its stream took.
			await waitFor(
				() => (fed.length === DEAF && fed.every((s) => s.bytesWritten > 0) ? true : undefined),
				'every deaf connection to reach its target and be fed',
				30_000,
			);
			const tally = await within(runBulk(ports[1]!, BulkMode.Both, 50, BYTES_EACH), 120_000, 'the others');
			assert.deepEqual(tally, { exact: 50, mismatch: 0, error: 0 }, 'the other streams moved, byte-exact');
			// A new connection still gets through at once.
			const reply = await within(
				new Promise<string>((resolve, reject) => {
					const socket = connect({ port: ports[2]!, host: '127.0.0.1' }, () => socket.end('still here'));
					let text = '';
					socket.on('data', (d: Buffer) => (text += d.toString()));
					socket.on('end', () => resolve(text));
					socket.on('error', reject);
				}),
				5_000,
				'a new connection',
			);
			assert.equal(reply, 'still here');
			assertNoSessionFailed(agent, cli);
			assertMemoryBounded(agent, cli, DEAF + 50);
		} finally {
			for (const socket of deaf) {
				socket.destroy();
			}
			assert.equal(await cli.stop(), 0);
			await firehose.close();
			await target.close();
			await echo.close();
		}
	});
});
