/**
 * Where a proxied connection's setup time goes (issue 9's "connect + SOCKS handshake + first
 * byte"), phase by phase, on the proxy paths: `node --import tsx bench/proxy-phases.ts
 * [--paths ssh-D,berth-D,berth-reverse,berth-relay] [--count N] [--profile] [--strace]`.
 *
 * Starts each path as the bench does (bench/lib/paths.ts, from dist/server.js as it is) and
 * times, for N connections one after another: the TCP connect to the proxy port; the greeting
 * and the method reply (1 round trip to the proxy process); CONNECT and its reply (the proxy
 * opens its channel or stream, the far side connects to the echo server and answers); one byte
 * to the echo server and back; the close. Prints the median and p99 of each phase. With
 * --profile the Berth processes run under node --cpu-prof, and a summary of each profile's top
 * frames follows. With --strace each side's processes are counted by `strace -c -f` during the
 * measured connections (times are then meaningless: only the system calls per connection count).
 * A few minutes at most; it writes nothing under bench/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { snapshotBerth } from './lib/bundle';
import { PATHS, prepareSsh, type PathId, type Side } from './lib/paths';
import { cpuTimes, killAllNow } from './lib/procs';
import { findProfiles, formatSummary, summarizeProfile } from './lib/profile';
import { LoadServer } from './lib/services';

const PHASES = ['connect', 'greeting', 'request', 'echo', 'total'] as const;
type Phase = (typeof PHASES)[number];

/** Resolves with the next `n` bytes the socket receives (the socket is only used here). */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		let got = Buffer.alloc(0);
		const onData = (chunk: Buffer): void => {
			got = Buffer.concat([got, chunk]);
			if (got.length >= n) {
				socket.off('data', onData);
				socket.off('error', reject);
				resolve(got);
			}
		};
		socket.on('data', onData);
		socket.once('error', reject);
	});
}

/** One connection through the SOCKS5 proxy on `port` to the echo server; µs per phase. */
async function once(port: number, target: number): Promise<Record<Phase, number>> {
	const t0 = process.hrtime.bigint();
	const socket = connect({ host: '127.0.0.1', port, noDelay: true });
	await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
	const t1 = process.hrtime.bigint();
	socket.write(Uint8Array.of(5, 1, 0));
	await readBytes(socket, 2);
	const t2 = process.hrtime.bigint();
	const request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 0]);
	request.writeUInt16BE(target, 8);
	socket.write(request);
	const reply = await readBytes(socket, 10);
	if (reply[1] !== 0) {
		throw new Error(`CONNECT refused: ${reply[1]}`);
	}
	const t3 = process.hrtime.bigint();
	socket.write(Uint8Array.of(0x2a));
	await readBytes(socket, 1);
	const t4 = process.hrtime.bigint();
	socket.destroy();
	const us = (a: bigint, b: bigint): number => Number(b - a) / 1000;
	return {
		connect: us(t0, t1),
		greeting: us(t1, t2),
		request: us(t2, t3),
		echo: us(t3, t4),
		total: us(t0, t4),
	};
}

/** `strace -c -f` attached to a side's processes; `stop()` resolves with its summary table. */
function straceSide(side: Side, file: string): { stop(): Promise<string> } {
	const args = ['-c', '-f', '-o', file, ...side.pids().flatMap((pid) => ['-p', String(pid)])];
	const child: ChildProcess = spawn('strace', args, { stdio: 'ignore' });
	return {
		stop: () =>
			new Promise((resolve) => {
				child.once('exit', () => resolve(readFileSync(file, 'utf8')));
				child.kill('SIGINT');
			}),
	};
}

/** The calls per connection of each system call in an `strace -c` table, most first. */
function callsPerConnection(table: string, connections: number): string {
	const rows = table
		.split('\n')
		.map((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line))
		.filter((m): m is RegExpExecArray => m !== null && m[2] !== 'total')
		.map((m) => ({ name: m[2]!, calls: Number(m[1]) / connections }))
		.filter((r) => r.calls >= 0.05)
		.sort((a, b) => b.calls - a.calls);
	const total = rows.reduce((n, r) => n + r.calls, 0);
	return `${total.toFixed(1)} calls: ${rows.map((r) => `${r.name} ${r.calls.toFixed(1)}`).join(', ')}`;
}

function percentile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			paths: { type: 'string', default: 'ssh-D,berth-D,berth-reverse,berth-relay' },
			count: { type: 'string', default: '2000' },
			warmup: { type: 'string', default: '500' },
			profile: { type: 'boolean' },
			strace: { type: 'boolean' },
			'keep-profiles': { type: 'string' },
		},
	});
	const count = Number(values.count);
	const warmup = Number(values.warmup);
	const workDir = mkdtempSync(join(tmpdir(), 'berth-phases-'));
	const profileDir = values['keep-profiles'] ?? (values.profile ? join(workDir, 'profiles') : undefined);
	process.on('exit', () => {
		killAllNow();
		rmSync(workDir, { recursive: true, force: true });
	});
	const repo = join(__dirname, '..');
	const ctx = {
		workDir,
		serverJs: snapshotBerth(repo, workDir),
		berthLogLevel: 'warn',
		profileDir,
		ssh: prepareSsh(workDir),
	};
	const echo = new LoadServer(__dirname, 'echo');
	await echo.start();
	for (const id of values.paths.split(',') as PathId[]) {
		const relay = await PATHS[id].start(ctx, echo.port, `phases-${id}`);
		const samples: Record<Phase, number[]> = { connect: [], greeting: [], request: [], echo: [], total: [] };
		let traces: { side: Side; trace: { stop(): Promise<string> } }[] = [];
		let cpuBefore: { total: number; system: number }[] = [];
		for (let i = 0; i < warmup + count; i++) {
			if (i === warmup) {
				cpuBefore = relay.sides.map((side) => cpuTimes(side.pids()));
			}
			if (i === warmup && values.strace) {
				traces = relay.sides.map((side, n) => ({
					side,
					trace: straceSide(side, join(workDir, `strace.${id}.${n}`)),
				}));
				await new Promise((resolve) => setTimeout(resolve, 1_000)); // strace attaches
			}
			const t = await once(relay.port, echo.port);
			if (i >= warmup) {
				for (const phase of PHASES) {
					samples[phase].push(t[phase]);
				}
			}
		}
		relay.sides.forEach((side, n) => {
			const after = cpuTimes(side.pids());
			const total = ((after.total - cpuBefore[n]!.total) / count) * 1e6;
			const system = ((after.system - cpuBefore[n]!.system) / count) * 1e6;
			console.log(
				`${PATHS[id].label}, ${side.label}: CPU per connection ${total.toFixed(0)} µs (${system.toFixed(0)} in the kernel)`,
			);
		});
		for (const { side, trace } of traces) {
			console.log(
				`${PATHS[id].label}, ${side.label}: per connection ${callsPerConnection(await trace.stop(), count)}`,
			);
		}
		await relay.stop();
		const cells = PHASES.map(
			(p) => `${p} ${percentile(samples[p], 0.5).toFixed(0)}/${percentile(samples[p], 0.99).toFixed(0)}`,
		);
		console.log(`${PATHS[id].label}: µs median/p99: ${cells.join(', ')}`);
	}
	await echo.stop();
	if (profileDir) {
		for (const file of findProfiles(profileDir)) {
			console.log('\n' + formatSummary(summarizeProfile(file, 25), profileDir));
		}
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error);
		process.exit(1);
	},
);
