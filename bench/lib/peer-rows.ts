/**
 * The rows and goals the throughput and the time cases share, whoever the peer is: ssh -L for
 * the forward cases (cases.ts), ssh -D for the proxy cases (proxy-cases.ts). One loop each, so a
 * change to a table's columns or a goal's wording reaches both kinds of case.
 */
import { get, judge, type Collected } from './case-def';
import type { PathDef, PathId } from './paths';
import { cell, DASH, fixed, ratio, type GoalResult } from './report';

/** Who the ratios and goals compare with. */
export interface Peer {
	readonly id: PathId;
	/** As the goal details name it: "ssh", "ssh -D". */
	readonly name: string;
}

/** A throughput bar for a product path: `factor` times the peer's median; `goal` names it, given "1 stream" or "8 streams". */
export interface ThroughputBar {
	readonly factor: number;
	goal(what: string): string;
}

/**
 * One row per path of a throughput case (1 and 8 streams, their ratios to direct and to the
 * peer), and the goals of every product path that has a bar.
 */
export function throughputRows(
	collected: Collected,
	paths: readonly PathDef[],
	peer: Peer,
	barOf: (path: PathDef) => ThroughputBar | undefined,
): { rows: string[][]; goals: GoalResult[] } {
	const goals: GoalResult[] = [];
	const peerOne = get(collected, peer.id, 'one');
	const peerEight = get(collected, peer.id, 'eight');
	const rows = paths.map((path) => {
		const one = get(collected, path.id, 'one');
		const eight = get(collected, path.id, 'eight');
		const bar = barOf(path);
		if (path.product && bar !== undefined) {
			for (const [what, value, peerValue] of [
				['1 stream', one, peerOne],
				['8 streams', eight, peerEight],
			] as const) {
				goals.push(
					judge(
						bar.goal(what),
						path,
						value,
						peerValue === undefined ? undefined : peerValue.median * bar.factor,
						(v, b) => v >= b,
						(v, b) =>
							`${v.toFixed(2)} Gbit/s = ${(v / (b / bar.factor)).toFixed(2)}x ${peer.name} (${(b / bar.factor).toFixed(2)})`,
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
	return { rows, goals };
}

/**
 * One row per path of a time case (median and p99 in µs, what the median adds over direct, the
 * ratios to the peer), and for every product path a goal "no slower than the peer" per entry of
 * `judged` (its label in the goal, and the metric it judges).
 */
export function timeRows(
	collected: Collected,
	paths: readonly PathDef[],
	peer: Peer,
	judged: readonly { readonly label: string; readonly metric: 'p50' | 'p99' }[],
	goalOf: (label: string) => string,
): { rows: string[][]; goals: GoalResult[] } {
	const goals: GoalResult[] = [];
	const direct = get(collected, 'direct', 'p50');
	const rows = paths.map((path) => {
		const p50 = get(collected, path.id, 'p50');
		const p99 = get(collected, path.id, 'p99');
		if (path.product) {
			for (const { label, metric } of judged) {
				goals.push(
					judge(
						goalOf(label),
						path,
						metric === 'p50' ? p50 : p99,
						get(collected, peer.id, metric)?.median,
						(v, b) => v <= b,
						(v, b) => `${v.toFixed(0)} µs vs ${peer.name} ${b.toFixed(0)} µs (${(v / b).toFixed(2)}x)`,
					),
				);
			}
		}
		return [
			path.label,
			cell(p50, 0),
			cell(p99, 0),
			p50 && direct ? fixed(p50.median - direct.median, 0) : DASH,
			ratio(p50, get(collected, peer.id, 'p50')),
			ratio(p99, get(collected, peer.id, 'p99')),
		];
	});
	return { rows, goals };
}
