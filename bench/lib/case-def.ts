/**
 * What a case is (CaseDef) and the helpers every case's report shares: the peer every ratio uses,
 * a metric's spread over the repetitions, and judging a goal on medians.
 */
import type { CaseId, Settings } from './options';
import type { PathContext, PathDef, PathId, Relay } from './paths';
import { DASH, type GoalResult, type Table } from './report';
import type { IperfServer, LoadServer } from './services';
import { spread, type Spread } from './stats';

export interface CaseEnv {
	readonly settings: Settings;
	readonly benchDir: string;
	/** The run's temporary folder (removed when the run ends). */
	readonly workDir: string;
	readonly iperf: IperfServer;
	readonly echo: LoadServer;
	readonly bulk: LoadServer;
	/** Adds a remark about this repetition (kept in the raw results and shown under the table). */
	note(text: string): void;
}

/**
 * Values of one metric, one per repetition, per path. A case with variants has its metrics named
 * "VARIANT.metric"; a failed measurement contributes only "failed" (or "VARIANT.failed") = 1.
 */
export type Collected = ReadonlyMap<PathId, Readonly<Record<string, readonly number[]>>>;

export interface CaseDef {
	readonly id: CaseId;
	readonly title: string;
	/** Which service the path forwards to. */
	readonly target: 'iperf' | 'echo' | 'bulk';
	/**
	 * Variants measured one after another within each repetition (e.g. connection counts), each on
	 * freshly started relay processes; `measure` gets the variant. None: one measurement.
	 */
	variants?(settings: Settings): readonly string[];
	/**
	 * A proxy case (issue 9) measures the proxy paths (and direct); the others measure the port
	 * forwards (and direct). See casePaths.
	 */
	readonly proxy?: boolean;
	applies(path: PathDef): boolean;
	/**
	 * Starts `path` the way this case needs it (e.g. with a proxy of the case's own between its
	 * processes); without it, the path's own `start`. The Relay is what `measure` gets.
	 */
	start?(ctx: PathContext, path: PathDef, target: number, runLabel: string): Promise<Relay>;
	measure(env: CaseEnv, relay: Relay, path: PathDef, variant?: string): Promise<Record<string, number>>;
	/** A short line for the progress log (values as measure returned them, before prefixing). */
	describe(values: Record<string, number>, variant?: string): string;
	report(
		collected: Collected,
		paths: readonly PathDef[],
		settings: Settings,
	): { table: Table; goals: GoalResult[] };
}

export const PEER: PathId = 'ssh';

/** The paths of `paths` a case measures and reports: its kind's, direct, and what it applies to. */
export function casePaths(def: CaseDef, paths: readonly PathDef[]): PathDef[] {
	const kind = def.proxy === true ? 'proxy' : 'forward';
	return paths.filter((p) => (p.kind === 'none' || p.kind === kind) && def.applies(p));
}

export function get(collected: Collected, path: PathId, metric: string): Spread | undefined {
	return spread(collected.get(path)?.[metric]);
}

/** How many measurements of `path` (and `variant`) failed. */
export function failures(collected: Collected, path: PathId, variant?: string): number {
	const values = collected.get(path)?.[variant === undefined ? 'failed' : `${variant}.failed`] ?? [];
	return values.length;
}

export function judge(
	goal: string,
	path: PathDef,
	value: Spread | undefined,
	bar: number | undefined,
	compare: (value: number, bar: number) => boolean,
	detail: (value: number, bar: number) => string,
): GoalResult {
	if (value === undefined || bar === undefined || !Number.isFinite(bar)) {
		return { goal, path: path.label, met: undefined, detail: DASH };
	}
	return { goal, path: path.label, met: compare(value.median, bar), detail: detail(value.median, bar) };
}
