/**
 * The five cases of issue 3, issue 7's parallel streams (parallel-case.ts), issue 9's proxy
 * cases (proxy-cases.ts) and issue 13's resume case (resume-case.ts). Each measures one started
 * path (a Relay) and returns named values for that repetition; `report` turns every repetition of
 * every path into a table and judges the issue's goals on medians, against ssh -L with the default
 * cipher in the same run.
 */
import { get, judge, PEER, type CaseDef } from './case-def';
import type { CaseId } from './options';
import { parallel } from './parallel-case';
import { PATHS, type PathId } from './paths';
import { idleReport, measureIdle } from './idle-case';
import { cpuTimes } from './procs';
import { PROXY_CASES } from './proxy-cases';
import { resume } from './resume-case';
import { throughputRows, timeRows, type Peer } from './peer-rows';
import { cell, DASH, fixed, ratio, type GoalResult } from './report';
import { runIperf, runLoadClient } from './services';
import { measureThroughput } from './throughput';
import type { Spread } from './stats';

export type { CaseDef, CaseEnv, Collected } from './case-def';

/** The forward cases' peer: ssh -L with the default cipher. */
const SSH: Peer = { id: PEER, name: 'ssh' };

// ---- 1. throughput ----

const throughput: CaseDef = {
	id: 'throughput',
	title: 'Throughput, iperf3 Gbit/s received',
	target: 'iperf',
	applies: () => true,
	measure: (env, relay) => measureThroughput(env, relay.port),
	describe: (v) => `1 stream ${fixed(v.one, 2)}, 8 streams ${fixed(v.eight, 2)} Gbit/s`,
	report(collected, paths, settings) {
		const { rows, goals } = throughputRows(collected, paths, SSH, () => ({
			factor: 1.5,
			goal: (what) => `throughput ${what} >= 1.5x ssh`,
		}));
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
		const { rows, goals } = timeRows(
			collected,
			paths,
			SSH,
			[
				{ label: 'p50', metric: 'p50' },
				{ label: 'p99', metric: 'p99' },
			],
			(label) => `ping-pong ${label} <= ssh`,
		);
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
		const { rows, goals } = timeRows(
			collected,
			paths,
			SSH,
			[{ label: 'median', metric: 'p50' }],
			(label) => `connection setup ${label} <= ssh`,
		);
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

const idle: CaseDef = {
	id: 'idle',
	title: 'Idle connections',
	target: 'echo',
	applies: (path) => path.id !== 'direct',
	measure: (env, relay) => measureIdle(env, relay),
	describe: (v) =>
		`${v['open.full']} open; KiB/conn client ${fixed(v['client.perConn'], 1)}, server ${fixed(v['server.perConn'], 1)}`,
	report: (collected, paths, settings) =>
		idleReport(collected, paths, settings, {
			peer: PEER,
			peerName: 'ssh',
			sideLabels: {
				ssh: { client: 'ssh client', server: 'sshd session processes' },
				'ssh-gcm': { client: 'ssh client', server: 'sshd session processes' },
				'berth-tcp': { client: 'berth forward', server: 'berth server' },
				'berth-ws': { client: 'berth forward', server: 'berth server' },
			},
			what: 'forwarded',
			goal: 'idle RSS per connection',
			goalNote: 'Goal: <= 4 KiB per connection in the client and in the server.',
		}),
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

export const CASES: Readonly<Record<CaseId, CaseDef>> = {
	throughput,
	latency,
	setup,
	idle,
	cpu,
	parallel,
	...PROXY_CASES,
	resume,
};

export function pathLabel(id: PathId): string {
	return PATHS[id].label;
}
