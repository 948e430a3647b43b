/**
 * Issue 7's parallel-streams case: N bulk TCP connections at once through one relay (one Berth
 * session, one ssh session), for each N of `--streams`, each N on fresh relay processes. All N
 * run for the same fixed time and only checked bytes count, so a broken run fails instead of
 * reporting a figure (load/parallel-client.ts). Figures: aggregate Gbit/s, and fairness = the
 * slowest connection's bytes / the fastest's over that same time.
 *
 * Fixed time rather than a fixed amount per connection: ssh -L collapses with hundreds of
 * channels (~0.08 Gbit/s at 1,000 here), so a fixed amount would make one ssh measurement last
 * minutes; and with a fixed amount the fast connections finish and leave, while a fixed window
 * measures fairness with all N competing the whole time.
 */
import { failures, get, PEER, type CaseDef, type Collected } from './case-def';
import type { PathDef } from './paths';
import { cell, fixed, ratio, type GoalResult } from './report';
import { runLoadClient } from './services';
import type { Spread } from './stats';

/** Connections the load client opens at once (below sshd's and Berth's accept backlogs). */
const OPEN_CONCURRENCY = 64;
/** A bound on one measurement, whatever happens: opening N connections, the window, closing. */
const MEASUREMENT_TIMEOUT_MS = 5 * 60_000;
const MBIT_PER_GBIT = 1000;
/** Time after the start that is not measured (the start reaching every connection). */
const RAMP_MS = 1_000;

function mbit(s: Spread | undefined): Spread | undefined {
	return (
		s && { min: s.min * MBIT_PER_GBIT, median: s.median * MBIT_PER_GBIT, max: s.max * MBIT_PER_GBIT, n: s.n }
	);
}

/**
 * Issue 7's bar for each N: no connection failed in any run (reset, closed, wrong byte), and
 * every connection moved data in every run (none starved).
 */
function workGoal(collected: Collected, path: PathDef, n: string): GoalResult {
	const failed = failures(collected, path.id, n);
	const gbps = get(collected, path.id, `${n}.gbps`);
	const starved = get(collected, path.id, `${n}.starved`);
	const done = gbps?.n ?? 0;
	const peer = get(collected, PEER, `${n}.gbps`);
	const figures = [
		`${done} of ${done + failed} runs without a failed connection`,
		...(starved && starved.max > 0 ? [`up to ${starved.max} of ${n} connections moved nothing`] : []),
		...(gbps
			? [
					`${gbps.median.toFixed(2)} Gbit/s${peer && peer.median > 0 ? ` = ${(gbps.median / peer.median).toFixed(2)}x ssh` : ''}`,
				]
			: []),
	];
	return {
		goal: `${n} parallel streams: none fails, every one moves data`,
		path: path.label,
		met: done + failed === 0 ? undefined : failed === 0 && starved !== undefined && starved.max === 0,
		detail: figures.join('; '),
	};
}

export const parallel: CaseDef = {
	id: 'parallel',
	title: 'Parallel streams through one session',
	target: 'bulk',
	variants: (settings) => settings.streams.map(String),
	// ssh -L with aes128-gcm stalled like the default cipher at 256 and 1,000 channels while this
	// case was built: the peer is the default cipher, and the case is long enough already.
	applies: (path) => path.id !== 'ssh-gcm',
	async measure(env, relay, _path, variant) {
		const { direction, streamSeconds } = env.settings;
		const args = [direction, relay.port, variant, OPEN_CONCURRENCY, RAMP_MS, streamSeconds * 1000].map(
			String,
		);
		return runLoadClient(env.benchDir, args, MEASUREMENT_TIMEOUT_MS, 'parallel-client.ts');
	},
	describe: (v) =>
		`${fixed(v.gbps, 2)} Gbit/s, fairness ${fixed(v.fairness, 2)} (connections ${fixed((v.slowestGbps ?? NaN) * MBIT_PER_GBIT, 1)} to ${fixed((v.fastestGbps ?? NaN) * MBIT_PER_GBIT, 1)} Mbit/s${v.starved ? `; ${v.starved} moved nothing` : ''})`,
	report(collected, paths, settings) {
		const goals: GoalResult[] = [];
		const rows: string[][] = [];
		for (const n of settings.streams.map(String)) {
			for (const path of paths.filter((p) => this.applies(p))) {
				const gbps = get(collected, path.id, `${n}.gbps`);
				const fairness = get(collected, path.id, `${n}.fairness`);
				const failed = failures(collected, path.id, n);
				if (path.product) {
					goals.push(workGoal(collected, path, n));
				}
				rows.push([
					n,
					path.label,
					cell(gbps, 2),
					ratio(gbps, get(collected, PEER, `${n}.gbps`)),
					cell(fairness, 2),
					ratio(fairness, get(collected, PEER, `${n}.fairness`)),
					cell(mbit(get(collected, path.id, `${n}.slowestGbps`)), 1),
					cell(mbit(get(collected, path.id, `${n}.fastestGbps`)), 1),
					cell(get(collected, path.id, `${n}.starved`), 0),
					failed === 0 ? '0' : `FAILED ${failed} of ${failed + (gbps?.n ?? 0)}`,
				]);
			}
		}
		return {
			table: {
				title: `Parallel streams: N connections at once through one session for ${settings.streamSeconds} s, ${settings.direction === 'download' ? 'target to client' : 'client to target'}, every byte checked (min / median / max)`,
				headers: [
					'connections',
					'path',
					'Gbit/s, all together',
					'Gbit/s / ssh',
					'fairness (slowest / fastest)',
					'fairness / ssh',
					'slowest connection, Mbit/s',
					'fastest connection, Mbit/s',
					'connections that moved nothing',
					'failed runs',
				],
				rows,
				notes: [
					`All N connections are opened (each proven end to end), started at once, and after ${RAMP_MS / 1000} s counted for ${settings.streamSeconds} s. Only checked bytes count: every byte received is compared with what the target sent at that offset (download), or the target confirms what it compared (upload). Aggregate: all those bytes / the time; fairness: the slowest connection's bytes / the fastest's (1.0: all moved the same).`,
					'A failed run (a connection reset or closed, or a wrong byte) counts in "failed runs"; its error and the relay processes\' stderr are in the notes below and in the raw JSON. A relay that stalls fails nothing: its connections count as having moved nothing (fairness 0, or — when none moved a byte).',
				],
				textColumns: 2,
			},
			goals,
		};
	},
};
