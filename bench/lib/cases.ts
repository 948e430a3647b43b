/**
 * The five cases of issue 3, and issue 7's parallel streams (parallel-case.ts). Each measures one started path (a Relay) and returns named values
 * for that repetition; `report` turns every repetition of every path into a table and judges the
 * issue's goals on medians, against ssh -L with the default cipher in the same run.
 */
import { get, judge, PEER, type CaseDef } from './case-def';
import type { CaseId } from './options';
import { sleep } from './net';
import { parallel } from './parallel-case';
import { PATHS, type PathId } from './paths';
import { cpuTimes, rssKiB } from './procs';
import { cell, DASH, fixed, ratio, type GoalResult } from './report';
import { runIperf, runLoadClient, startIdleClient } from './services';
import type { Spread } from './stats';

export type { CaseDef, CaseEnv, Collected } from './case-def';

// ---- 1. throughput ----

const throughput: CaseDef = {
	id: 'throughput',
	title: 'Throughput, iperf3 Gbit/s received',
	target: 'iperf',
	applies: () => true,
	async measure(env, relay) {
		const values: Record<string, number> = {};
		const timeout = (env.settings.iperfSeconds + 30) * 1000;
		for (const [metric, args] of [
			['one', ['-t', String(env.settings.iperfSeconds)]],
			['eight', ['-t', String(env.settings.iperfSeconds), '-P', '8']],
		] as const) {
			try {
				values[metric] = (await runIperf(relay.port, args, timeout)).gbps;
			} catch (error) {
				env.note(`${metric === 'one' ? '1 stream' : '8 streams'}: ${(error as Error).message}`);
				await env.iperf.restart();
			}
		}
		return values;
	},
	describe: (v) => `1 stream ${fixed(v.one, 2)}, 8 streams ${fixed(v.eight, 2)} Gbit/s`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const rows = paths.map((path) => {
			const one = get(collected, path.id, 'one');
			const eight = get(collected, path.id, 'eight');
			const peerOne = get(collected, PEER, 'one');
			const peerEight = get(collected, PEER, 'eight');
			if (path.product) {
				for (const [label, value, bar] of [
					['1 stream', one, peerOne],
					['8 streams', eight, peerEight],
				] as const) {
					goals.push(
						judge(
							`throughput ${label} >= 1.5x ssh`,
							path,
							value,
							bar === undefined ? undefined : bar.median * 1.5,
							(v, b) => v >= b,
							(v, b) =>
								`${v.toFixed(2)} Gbit/s = ${(v / (b / 1.5)).toFixed(2)}x ssh (${(b / 1.5).toFixed(2)})`,
						),
					);
				}
			}
			return [
				path.label,
				cell(one, 2),
				cell(eight, 2),
				ratio(one, get(collected, 'direct', 'one')),
				ratio(eight, get(collected, 'direct', 'eight')),
				ratio(one, peerOne),
				ratio(eight, peerEight),
			];
		});
		return {
			table: {
				title: `Throughput, iperf3 -t ${settings.iperfSeconds}, Gbit/s received (min / median / max); ratios of medians`,
				headers: ['path', '1 stream', '8 streams (-P 8)', '1 / direct', '8 / direct', '1 / ssh', '8 / ssh'],
				rows,
				notes: ['Goal: Berth / ssh -L (default) >= 1.5 for 1 and 8 streams, over raw TCP and WebSocket.'],
			},
			goals,
		};
	},
};

// ---- 2. latency ----

const latency: CaseDef = {
	id: 'latency',
	title: 'Ping-pong latency',
	target: 'echo',
	applies: () => true,
	async measure(env, relay) {
		const { pingWarmup, pingCount } = env.settings;
		const result = await runLoadClient(
			env.benchDir,
			['pingpong', String(relay.port), String(pingWarmup), String(pingCount)],
			120_000,
		);
		return { p50: result.p50!, p99: result.p99!, mean: result.mean! };
	},
	describe: (v) => `p50 ${fixed(v.p50, 0)} µs, p99 ${fixed(v.p99, 0)} µs`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const direct = get(collected, 'direct', 'p50');
		const rows = paths.map((path) => {
			const p50 = get(collected, path.id, 'p50');
			const p99 = get(collected, path.id, 'p99');
			if (path.product) {
				for (const [label, value, bar] of [
					['p50', p50, get(collected, PEER, 'p50')],
					['p99', p99, get(collected, PEER, 'p99')],
				] as const) {
					goals.push(
						judge(
							`ping-pong ${label} <= ssh`,
							path,
							value,
							bar?.median,
							(v, b) => v <= b,
							(v, b) => `${v.toFixed(0)} µs vs ssh ${b.toFixed(0)} µs (${(v / b).toFixed(2)}x)`,
						),
					);
				}
			}
			return [
				path.label,
				cell(p50, 0),
				cell(p99, 0),
				p50 && direct ? fixed(p50.median - direct.median, 0) : DASH,
				ratio(p50, get(collected, PEER, 'p50')),
				ratio(p99, get(collected, PEER, 'p99')),
			];
		});
		return {
			table: {
				title: `Ping-pong latency, 1 byte, one connection, ${settings.pingCount} round trips after ${settings.pingWarmup} warm-up: µs (min / median / max of each percentile)`,
				headers: ['path', 'p50', 'p99', 'p50 added over direct', 'p50 / ssh', 'p99 / ssh'],
				rows,
				notes: ["Goal: Berth p50 and p99 <= ssh -L's."],
			},
			goals,
		};
	},
};

// ---- 3. connection setup ----

const setup: CaseDef = {
	id: 'setup',
	title: 'Connection setup',
	target: 'echo',
	applies: () => true,
	async measure(env, relay) {
		const result = await runLoadClient(
			env.benchDir,
			['connect', String(relay.port), String(env.settings.setupWarmup), String(env.settings.setupCount)],
			300_000,
		);
		return { p50: result.p50!, p99: result.p99!, mean: result.mean! };
	},
	describe: (v) => `median ${fixed(v.p50, 0)} µs, p99 ${fixed(v.p99, 0)} µs`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const direct = get(collected, 'direct', 'p50');
		const rows = paths.map((path) => {
			const p50 = get(collected, path.id, 'p50');
			const p99 = get(collected, path.id, 'p99');
			if (path.product) {
				goals.push(
					judge(
						'connection setup median <= ssh',
						path,
						p50,
						get(collected, PEER, 'p50')?.median,
						(v, b) => v <= b,
						(v, b) => `${v.toFixed(0)} µs vs ssh ${b.toFixed(0)} µs (${(v / b).toFixed(2)}x)`,
					),
				);
			}
			return [
				path.label,
				cell(p50, 0),
				cell(p99, 0),
				p50 && direct ? fixed(p50.median - direct.median, 0) : DASH,
				ratio(p50, get(collected, PEER, 'p50')),
				ratio(p99, get(collected, PEER, 'p99')),
			];
		});
		return {
			table: {
				title: `Connection setup: connect, write 1 byte, echoed byte back; ${settings.setupCount} connections one after another, after ${settings.setupWarmup} warm-up: µs (min / median / max)`,
				headers: ['path', 'median', 'p99', 'median added over direct', 'median / ssh', 'p99 / ssh'],
				rows,
				notes: ["Goal: Berth median <= ssh -L's."],
			},
			goals,
		};
	},
};

// ---- 4. idle connections ----

const WARMUP_CONNECTIONS = 20;
const SETTLE_MS = 1_000;

const idle: CaseDef = {
	id: 'idle',
	title: 'Idle connections',
	target: 'echo',
	applies: (path) => path.id !== 'direct',
	async measure(env, relay) {
		const n = env.settings.idleConnections;
		// One-time costs (code loaded and compiled on the first connection) are not per-connection.
		await runLoadClient(env.benchDir, ['connect', String(relay.port), String(WARMUP_CONNECTIONS)], 60_000);
		await sleep(SETTLE_MS);
		const values: Record<string, number> = {};
		const measureSides = (suffix: string): void => {
			for (const side of relay.sides) {
				values[`${side.role}.${suffix}`] = rssKiB(side.pids());
			}
		};
		measureSides('before');
		const stages = [Math.ceil(n / 2), n];
		const client = startIdleClient(env.benchDir, relay.port, stages, env.settings.idleConcurrency);
		try {
			for (const [i, stage] of stages.entries()) {
				const line = await client.waitForLine(new RegExp(`^\\{"stage":${stage},`), 600_000);
				const report = JSON.parse(line.input) as { open: number; error?: string; seconds: number };
				await sleep(SETTLE_MS);
				const broken = relay.failure();
				if (broken !== undefined) {
					throw new Error(`a relay process died with ${report.open} connections open: ${broken}`);
				}
				const suffix = i === 0 ? 'half' : 'full';
				measureSides(suffix);
				values[`open.${suffix}`] = report.open;
				if (i === stages.length - 1) {
					values.seconds = report.seconds;
				}
				if (report.error !== undefined) {
					env.note(`stopped opening at ${report.open} of ${n}: ${report.error}`);
				}
				client.send('next');
			}
			await client.waitForLine(/^\{"closed":/, 120_000);
		} finally {
			await client.stop(5_000);
		}
		for (const side of relay.sides) {
			const r = side.role;
			values[`${r}.perConn`] = (values[`${r}.full`]! - values[`${r}.before`]!) / values['open.full']!;
			const added = values['open.full']! - values['open.half']!;
			values[`${r}.marginal`] = added > 0 ? (values[`${r}.full`]! - values[`${r}.half`]!) / added : NaN;
		}
		return values;
	},
	describe: (v) =>
		`${v['open.full']} open; KiB/conn client ${fixed(v['client.perConn'], 1)}, server ${fixed(v['server.perConn'], 1)}`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const mib = (s: Spread | undefined): Spread | undefined =>
			s && { min: s.min / 1024, median: s.median / 1024, max: s.max / 1024, n: s.n };
		const rows: string[][] = [];
		for (const path of paths) {
			if (!this.applies(path)) {
				continue;
			}
			for (const role of ['client', 'server'] as const) {
				const sideLabel = sideLabels[path.id]?.[role] ?? role;
				const perConn = get(collected, path.id, `${role}.perConn`);
				if (path.product) {
					goals.push(
						judge(
							`idle RSS per connection <= 4 KiB, ${role} side`,
							path,
							perConn,
							4,
							(v, b) => v <= b,
							(v) => `${v.toFixed(1)} KiB (${sideLabel})`,
						),
					);
				}
				rows.push([
					path.label,
					sideLabel,
					cell(get(collected, path.id, 'open.full'), 0),
					cell(mib(get(collected, path.id, `${role}.before`)), 1),
					cell(mib(get(collected, path.id, `${role}.full`)), 1),
					cell(perConn, 1),
					cell(get(collected, path.id, `${role}.marginal`), 1),
					ratio(perConn, get(collected, PEER, `${role}.perConn`)),
				]);
			}
		}
		const n = settings.idleConnections;
		return {
			table: {
				title: `Idle connections: RSS with ${n} concurrent forwarded connections, each proven by a 1-byte echo (min / median / max)`,
				headers: [
					'path',
					'side',
					'connections open',
					'RSS before, MiB',
					`RSS at ${n}, MiB`,
					'KiB per connection',
					`KiB per connection, ${Math.ceil(n / 2)} -> ${n}`,
					'per conn / ssh',
				],
				rows,
				notes: [
					`"Before": fresh relay processes after ${WARMUP_CONNECTIONS} warm-up connections were opened and closed. KiB per connection = (RSS at N - before) / N; the next column is the slope between N/2 and N.`,
					'Goal: <= 4 KiB per connection in the client and in the server.',
				],
				textColumns: 2,
			},
			goals,
		};
	},
};

const sideLabels: Partial<Record<PathId, Record<'client' | 'server', string>>> = {
	ssh: { client: 'ssh client', server: 'sshd session processes' },
	'ssh-gcm': { client: 'ssh client', server: 'sshd session processes' },
	'berth-tcp': { client: 'berth forward', server: 'berth server' },
	'berth-ws': { client: 'berth forward', server: 'berth server' },
};

// ---- 5. CPU per GB ----

function percent(s: Spread | undefined): Spread | undefined {
	return s && { min: s.min * 100, median: s.median * 100, max: s.max * 100, n: s.n };
}

const cpu: CaseDef = {
	id: 'cpu',
	title: 'CPU per GB',
	target: 'iperf',
	applies: () => true,
	async measure(env, relay) {
		const before = relay.sides.map((side) => cpuTimes(side.pids()));
		const pidsBefore = relay.sides.map((side) => side.pids().join(','));
		let result;
		try {
			result = await runIperf(relay.port, ['-n', env.settings.cpuBytes], 600_000);
		} catch (error) {
			await env.iperf.restart();
			throw error;
		}
		const gb = result.bytes / 1e9;
		const values: Record<string, number> = { gbps: result.gbps, iperf: result.iperfCpuSeconds / gb };
		let total = 0;
		let system = 0;
		relay.sides.forEach((side, i) => {
			if (side.pids().join(',') !== pidsBefore[i]) {
				env.note(`${side.label}: processes changed during the transfer (CPU of exited ones may be missed)`);
			}
			const after = cpuTimes(side.pids());
			const seconds = after.total - before[i]!.total;
			values[side.role] = seconds / gb;
			total += seconds;
			system += after.system - before[i]!.system;
		});
		if (relay.sides.length > 0) {
			values.relay = total / gb;
			values.systemShare = total > 0 ? system / total : NaN;
		}
		return values;
	},
	describe: (v) =>
		`relay ${fixed(v.relay, 3)} s/GB (client ${fixed(v.client, 3)}, server ${fixed(v.server, 3)}) at ${fixed(v.gbps, 2)} Gbit/s`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const rows = paths.map((path) => {
			const relay = get(collected, path.id, 'relay');
			if (path.product) {
				goals.push(
					judge(
						'CPU s/GB (client + server) <= ssh',
						path,
						relay,
						get(collected, PEER, 'relay')?.median,
						(v, b) => v <= b,
						(v, b) => `${v.toFixed(3)} vs ssh ${b.toFixed(3)} s/GB (${(v / b).toFixed(2)}x)`,
					),
				);
			}
			return [
				path.label,
				path.id === 'direct' ? `${DASH} (no relay)` : cell(relay, 3),
				cell(get(collected, path.id, 'client'), 3),
				cell(get(collected, path.id, 'server'), 3),
				cell(percent(get(collected, path.id, 'systemShare')), 0),
				cell(get(collected, path.id, 'iperf'), 3),
				cell(get(collected, path.id, 'gbps'), 2),
				ratio(relay, get(collected, PEER, 'relay')),
			];
		});
		return {
			table: {
				title: `CPU per GB: iperf3 -n ${settings.cpuBytes}, one stream; CPU seconds (user + system) per 10^9 bytes (min / median / max)`,
				headers: [
					'path',
					'relay, both sides',
					'client side',
					'server side',
					'relay time in kernel, %',
					'iperf3 ends',
					'Gbit/s during it',
					'relay / ssh',
				],
				rows,
				notes: [
					'Client side: ssh, or berth forward; server side: the sshd session processes, or berth server. "In kernel": system time / (user + system) of the relay processes. "iperf3 ends" is from iperf3\'s own CPU utilization report.',
					"Goal: Berth's client + server <= ssh -L's (default cipher); the issue aims at one Node hop's ~0.8.",
				],
			},
			goals,
		};
	},
};

export const CASES: Readonly<Record<CaseId, CaseDef>> = { throughput, latency, setup, idle, cpu, parallel };

export function pathLabel(id: PathId): string {
	return PATHS[id].label;
}
