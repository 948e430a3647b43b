import { parseArgs } from 'node:util';
import { PATH_IDS, type PathId } from './paths';

export const CASE_IDS = [
	'throughput',
	'latency',
	'setup',
	'idle',
	'cpu',
	'parallel',
	'proxy-throughput',
	'proxy-setup',
	'proxy-idle',
	'resume',
] as const;
export type CaseId = (typeof CASE_IDS)[number];

/** Names that stand for several cases in --only / --case. */
const CASE_GROUPS: Readonly<Record<string, readonly CaseId[]>> = {
	proxy: ['proxy-throughput', 'proxy-setup', 'proxy-idle'],
};

export const USAGE = `npm run bench -- [options]

Compares, in one run and interleaved, direct loopback, ssh -L (default cipher and aes128-gcm) and
Berth (raw TCP and WebSocket frames) on 127.0.0.1; the proxy cases compare ssh -D with Berth's
forward -D and reverse mode (server -r + provider); the resume case times a -L session cut and
resumed against a new session and a new ssh -L. A full run takes ~30 minutes (more on a busy
machine) and writes bench/RESULTS.md, and the raw values under bench/out/.

Options:
  --quick                1 repetition, shorter runs, fewer connections (for development)
  --only CASES           comma-separated subset of: ${CASE_IDS.join(', ')};
                         proxy = the three proxy-* cases
  --case CASES           the same as --only
  --paths PATHS          comma-separated subset of: ${PATH_IDS.join(', ')}
  --reps N               repetitions of each case (default 3; 1 with --quick)
  --connections N        idle cases: connections to hold open (default 10000; 1000 with --quick)
  --streams N,N,...      parallel case: parallel connections per measurement (default 64,256,1000)
  --stream-seconds S     parallel case: how long the N connections are measured (default 5; 2
                         with --quick)
  --direction D          parallel case: download (target to client, the default) or upload
  --cuts N               resume case: timed cuts, new sessions and new ssh -L per measurement
                         (default 200; 50 with --quick), after a warm-up of a tenth as many
  --profile              run Berth's processes with node --cpu-prof; profiles and a summary of
                         each go under bench/out/profiles-<time>/
  --berth-log-level L    --log-level for Berth's processes (default warn: no line per connection)
  --write-results        write bench/RESULTS.md even for a partial or quick run
  --no-build             skip \`node esbuild.mjs\` (use dist/ as it is)
  --no-setup             skip bench/setup.sh
  -h, --help             this text
`;

export interface Settings {
	readonly quick: boolean;
	readonly cases: readonly CaseId[];
	readonly paths: readonly PathId[];
	readonly reps: number;
	/** iperf3 -t for the throughput case. */
	readonly iperfSeconds: number;
	/** iperf3 -n for the CPU case. */
	readonly cpuBytes: string;
	readonly pingWarmup: number;
	readonly pingCount: number;
	readonly setupCount: number;
	readonly setupWarmup: number;
	readonly idleConnections: number;
	/** Connections the idle load client opens at once (below sshd's and Berth's accept backlogs). */
	readonly idleConcurrency: number;
	/** Parallel case: how many connections run at once, one measurement each. */
	readonly streams: readonly number[];
	/** Parallel case: how long the connections are measured, in seconds. */
	readonly streamSeconds: number;
	readonly direction: 'download' | 'upload';
	/** Resume case: timed cuts (and new sessions, and new ssh connections) per measurement. */
	readonly cuts: number;
	/** Resume case: untimed ones before them. */
	readonly cutsWarmup: number;
	readonly profile: boolean;
	readonly berthLogLevel: string;
	readonly writeResults: boolean;
	readonly build: boolean;
	readonly setup: boolean;
	/** A full run: every case and path, default sizes. */
	readonly complete: boolean;
}

function list<T extends string>(flag: string, value: string | undefined, all: readonly T[]): readonly T[] {
	if (value === undefined) {
		return all;
	}
	const picked = value.split(',').map((v) => v.trim());
	for (const v of picked) {
		if (!(all as readonly string[]).includes(v)) {
			throw new Error(`${flag}: unknown "${v}" (choose from ${all.join(', ')})`);
		}
	}
	// Keep the canonical order, so paths stay interleaved the same way.
	return all.filter((v) => picked.includes(v));
}

function positive(flag: string, value: string | undefined, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}
	const n = Number(value);
	if (!Number.isSafeInteger(n) || n < 1) {
		throw new Error(`${flag}: expected a positive whole number, got "${value}"`);
	}
	return n;
}

/** The resume case warms up with one untimed cut per this many timed ones. */
const CUTS_PER_WARMUP_CUT = 10;

const DEFAULT_STREAMS: readonly number[] = [64, 256, 1_000];

function positives(flag: string, value: string | undefined, fallback: readonly number[]): readonly number[] {
	return value === undefined ? fallback : value.split(',').map((v) => positive(flag, v.trim(), 0));
}

function direction(value: string | undefined): 'download' | 'upload' {
	if (value === undefined || value === 'download' || value === 'upload') {
		return value ?? 'download';
	}
	throw new Error(`--direction: expected download or upload, got "${value}"`);
}

/** "proxy,latency" -> "proxy-throughput,proxy-setup,proxy-idle,latency". */
function expandGroups(value: string | undefined): string | undefined {
	return value
		?.split(',')
		.flatMap((v): readonly string[] => CASE_GROUPS[v.trim()] ?? [v])
		.join(',');
}

/** Parses the bench's command line; undefined means --help was printed. */
export function parseSettings(argv: readonly string[]): Settings | undefined {
	const { values } = parseArgs({
		args: [...argv],
		options: {
			quick: { type: 'boolean' },
			only: { type: 'string' },
			paths: { type: 'string' },
			reps: { type: 'string' },
			connections: { type: 'string' },
			case: { type: 'string' },
			streams: { type: 'string' },
			'stream-seconds': { type: 'string' },
			direction: { type: 'string' },
			cuts: { type: 'string' },
			profile: { type: 'boolean' },
			'berth-log-level': { type: 'string' },
			'write-results': { type: 'boolean' },
			'no-build': { type: 'boolean' },
			'no-setup': { type: 'boolean' },
			help: { type: 'boolean', short: 'h' },
		},
		strict: true,
	});
	if (values.help) {
		process.stdout.write(USAGE);
		return undefined;
	}
	const quick = values.quick === true;
	if (values.only !== undefined && values.case !== undefined) {
		throw new Error('--only and --case are the same option: give one');
	}
	const cases = list(
		values.case !== undefined ? '--case' : '--only',
		expandGroups(values.only ?? values.case),
		CASE_IDS,
	);
	const paths = list('--paths', values.paths, PATH_IDS);
	const cuts = positive('--cuts', values.cuts, quick ? 50 : 200);
	const settings: Settings = {
		quick,
		cases,
		paths,
		reps: positive('--reps', values.reps, quick ? 1 : 3),
		iperfSeconds: quick ? 2 : 5,
		cpuBytes: quick ? '512M' : '2G',
		pingWarmup: quick ? 200 : 1_000,
		pingCount: quick ? 2_000 : 20_000,
		setupCount: quick ? 200 : 1_000,
		setupWarmup: quick ? 100 : 1_000,
		idleConnections: positive('--connections', values.connections, quick ? 1_000 : 10_000),
		idleConcurrency: 64,
		streams: positives('--streams', values.streams, DEFAULT_STREAMS),
		streamSeconds: positive('--stream-seconds', values['stream-seconds'], quick ? 2 : 5),
		direction: direction(values.direction),
		cuts,
		cutsWarmup: Math.ceil(cuts / CUTS_PER_WARMUP_CUT),
		profile: values.profile === true,
		berthLogLevel: values['berth-log-level'] ?? 'warn',
		writeResults: values['write-results'] === true,
		build: values['no-build'] !== true,
		setup: values['no-setup'] !== true,
		complete: false,
	};
	return {
		...settings,
		complete:
			!quick &&
			cases.length === CASE_IDS.length &&
			paths.length === PATH_IDS.length &&
			settings.reps >= 3 &&
			values.connections === undefined &&
			values.streams === undefined &&
			values['stream-seconds'] === undefined &&
			values.direction === undefined &&
			values.cuts === undefined,
	};
}
