/**
 * The soak's samples, its verdict (memory after warm-up vs at the end, file descriptors back to
 * the baseline, no errors) and the Markdown for bench/SOAK.md.
 */
import { fixed, renderMarkdown, type Table } from './report';

/** RSS at the end may exceed RSS after warm-up by this fraction before the verdict calls it growth. */
export const RSS_GROWTH_LIMIT = 0.2;
/** The RSS windows compared: this fraction of the load's samples each, at least MIN_WINDOW_SAMPLES. */
const WINDOW_FRACTION = 0.1;
const MIN_WINDOW_SAMPLES = 3;
/** Rows the table aims at (samples in between are in the raw JSON). */
const TABLE_ROWS = 20;
const KiB_PER_MiB = 1024;
const GiB = 1024 ** 3;

export interface ProcSample {
	readonly rssKiB: number;
	readonly hwmKiB: number;
	readonly fds: number;
}

/** The load's counters (bench/load/soak-workers.ts SoakCounters). */
export interface LoadCounters {
	readonly connections: number;
	readonly short: number;
	readonly aborted: number;
	readonly held: number;
	readonly bulk: number;
	readonly bytes: number;
	readonly errors: Readonly<Record<string, number>>;
	readonly mismatches: number;
	readonly firstErrors: readonly string[];
	readonly idleOpen: number;
}

export interface FinalCounters extends LoadCounters {
	readonly idleChecked: number;
	readonly idleFailed: number;
}

export type Role = 'agent' | 'forward';

export interface SoakSample {
	/** Seconds since the load started (negative: before it). */
	readonly seconds: number;
	readonly phase: 'baseline' | 'load' | 'after';
	readonly procs: Readonly<Partial<Record<Role, ProcSample>>>;
	readonly load?: LoadCounters;
}

export interface SoakOutcome {
	readonly samples: readonly SoakSample[];
	readonly warmupSeconds: number;
	readonly final?: FinalCounters;
	/** A process that died, the load program failing, or the run interrupted. */
	readonly failure?: string;
	/** What a process whose descriptors did not come back held beyond its baseline (fd-kinds.ts). */
	readonly lingering?: readonly string[];
}

export interface Verdict {
	readonly pass: boolean;
	readonly line: string;
}

const ROLES: readonly Role[] = ['agent', 'forward'];

function mib(kib: number | undefined): string {
	return kib === undefined ? '—' : fixed(kib / KiB_PER_MiB, 1);
}

export function errorCount(counters: LoadCounters | undefined): number {
	return Object.values(counters?.errors ?? {}).reduce((a, b) => a + b, 0);
}

/** Least-squares slope of RSS over the samples, in MiB per minute. */
function slope(points: readonly (readonly [number, number])[]): number {
	const n = points.length;
	if (n < 2) {
		return NaN;
	}
	const mx = points.reduce((a, [x]) => a + x, 0) / n;
	const my = points.reduce((a, [, y]) => a + y, 0) / n;
	const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
	const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
	return sxx === 0 ? NaN : ((sxy / sxx) * 60) / KiB_PER_MiB;
}

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[sorted.length >> 1]!;
}

/**
 * RSS after the warm-up vs at the end, each the median of a window of samples (one sample is at
 * the mercy of where the garbage collector happens to be), plus the slope over everything after
 * the warm-up.
 */
function memoryCheck(outcome: SoakOutcome, role: Role): { ok: boolean | undefined; text: string } {
	const load = outcome.samples.filter((s) => s.phase === 'load' && s.procs[role] !== undefined);
	const settled = load.filter((s) => s.seconds >= outcome.warmupSeconds);
	const window = Math.max(MIN_WINDOW_SAMPLES, Math.round(settled.length * WINDOW_FRACTION));
	if (settled.length < 2 * window) {
		return { ok: undefined, text: `${role} RSS not judged: ${settled.length} samples after the warm-up` };
	}
	const rss = (s: SoakSample): number => s.procs[role]!.rssKiB;
	const from = median(settled.slice(0, window).map(rss));
	const to = median(settled.slice(-window).map(rss));
	const growth = to / from - 1;
	const rate = slope(settled.map((s) => [s.seconds, rss(s)]));
	const signed = (n: number, digits: number): string => `${n >= 0 ? '+' : ''}${fixed(n, digits)}`;
	return {
		ok: growth <= RSS_GROWTH_LIMIT,
		text: `${role} RSS ${mib(from)} MiB after the warm-up, ${mib(to)} MiB at the end (${signed(growth * 100, 0)} %, slope ${signed(rate, 2)} MiB/min)`,
	};
}

function fdCheck(outcome: SoakOutcome, role: Role): { ok: boolean; text: string } {
	const before = outcome.samples.find((s) => s.phase === 'baseline')?.procs[role]?.fds;
	const after = outcome.samples.find((s) => s.phase === 'after')?.procs[role]?.fds;
	return {
		ok: before !== undefined && after !== undefined && after <= before,
		text: `${role} ${before ?? '—'} -> ${after ?? 'gone'}`,
	};
}

function lastCounters(samples: readonly SoakSample[]): LoadCounters | undefined {
	for (let i = samples.length - 1; i >= 0; i--) {
		if (samples[i]!.load !== undefined) {
			return samples[i]!.load;
		}
	}
	return undefined;
}

/** PASS when RSS did not grow past the limit after warm-up, fds came back, and nothing failed. */
export function judgeSoak(outcome: SoakOutcome): Verdict {
	const memory = ROLES.map((role) => memoryCheck(outcome, role));
	const fds = ROLES.map((role) => fdCheck(outcome, role));
	const counters = outcome.final ?? lastCounters(outcome.samples);
	const errors = errorCount(counters);
	const idleFailed = outcome.final?.idleFailed ?? 0;
	const clean =
		outcome.failure === undefined && outcome.final !== undefined && errors === 0 && idleFailed === 0;
	const failed = [
		...(memory.some((m) => m.ok === false)
			? [`RSS grew more than ${RSS_GROWTH_LIMIT * 100} % after warm-up`]
			: []),
		...(memory.some((m) => m.ok === undefined) ? ['too few samples to judge RSS'] : []),
		...(fds.every((f) => f.ok) ? [] : ['file descriptors not back to the baseline']),
		...(clean ? [] : ['errors']),
	];
	const work = counters
		? `${counters.connections.toLocaleString('en-US')} connections and ${fixed(counters.bytes / GiB, 1)} GiB checked`
		: 'no load counters';
	const parts = [
		memory.map((m) => m.text).join(', '),
		`fds baseline -> after: ${fds.map((f) => f.text).join(', ')}`,
		`${errors} errors, ${counters?.mismatches ?? 0} byte mismatches, ${idleFailed} idle connections lost in ${work}` +
			(outcome.failure ? `; ${outcome.failure.split('\n')[0]}` : ''),
	];
	const line = `${failed.length === 0 ? 'PASS' : `FAIL (${failed.join('; ')})`}: ${parts.join('; ')}`;
	return { pass: failed.length === 0, line };
}

function clock(seconds: number): string {
	const s = Math.round(seconds);
	const sign = s < 0 ? '-' : '';
	return `${sign}${Math.floor(Math.abs(s) / 60)}:${String(Math.abs(s) % 60).padStart(2, '0')}`;
}

/** About TABLE_ROWS rows: the baseline, evenly spaced load samples (with the warm-up's and the last), after. */
function tableSamples(outcome: SoakOutcome): SoakSample[] {
	const load = outcome.samples.filter((s) => s.phase === 'load');
	const every = Math.max(1, Math.ceil(load.length / TABLE_ROWS));
	const warm = load.find((s) => s.seconds >= outcome.warmupSeconds);
	const picked = load.filter((s, i) => i % every === every - 1 || s === warm || i === load.length - 1);
	return [
		...outcome.samples.filter((s) => s.phase === 'baseline'),
		...picked,
		...outcome.samples.filter((s) => s.phase === 'after'),
	];
}

export function soakTable(outcome: SoakOutcome): Table {
	const rows = tableSamples(outcome).map((s) => {
		const procCells = ROLES.flatMap((role) => {
			const p = s.procs[role];
			return [mib(p?.rssKiB), mib(p?.hwmKiB), p ? String(p.fds) : 'gone'];
		});
		const l = s.load;
		return [
			clock(s.seconds),
			s.phase === 'load' && s.seconds < outcome.warmupSeconds ? 'warm-up' : s.phase,
			...procCells,
			l ? l.connections.toLocaleString('en-US') : '—',
			l ? `${l.short} / ${l.aborted} / ${l.held}` : '—',
			l ? String(l.bulk) : '—',
			l ? fixed(l.bytes / GiB, 2) : '—',
			l ? String(errorCount(l)) : '—',
			l ? String(l.mismatches) : '—',
		];
	});
	return {
		title: 'Samples (m:ss since the load started)',
		headers: [
			'time',
			'phase',
			'agent RSS, MiB',
			'agent peak RSS, MiB',
			'agent fds',
			'forward RSS, MiB',
			'forward peak RSS, MiB',
			'forward fds',
			'connections done',
			'short / aborted / held',
			'bulk transfers',
			'GiB checked',
			'errors',
			'byte mismatches',
		],
		rows,
		notes: [],
		textColumns: 2,
	};
}

export function renderSoakTable(outcome: SoakOutcome): string {
	return renderMarkdown(soakTable(outcome));
}
