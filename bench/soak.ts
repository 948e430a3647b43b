/**
 * Berth's soak (issue 7): `npm run soak -- [--minutes M]`. One agent and one `berth forward -L`
 * from a fresh build, under churn, bulk and idle connections at once (load/soak-workers.ts) for
 * M minutes (default 10); samples RSS and open descriptors of both processes, then writes a
 * table and a verdict to bench/SOAK.md and every sample to bench/out/soak-<time>.json. Not part
 * of `npm test`. Every process it starts is killed on the way out, also on errors and Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotBerth } from './lib/bundle';
import { loadAverage, machineFacts } from './lib/machine';
import { sleep } from './lib/net';
import { startBerth, type Relay } from './lib/paths';
import { describeExtraFds, fdTargets, socketsByInode } from './lib/fd-kinds';
import { killAllNow, memoryKiB, openFds, startProc, type Proc } from './lib/procs';
import { LoadServer } from './lib/services';
import { soakMarkdown } from './lib/soak-document';
import { parseSoakSettings, type SoakSettings } from './lib/soak-options';
import {
	errorCount,
	judgeSoak,
	type FinalCounters,
	type LoadCounters,
	type ProcSample,
	type Role,
	type SoakOutcome,
	type SoakSample,
} from './lib/soak-report';

const BENCH_DIR = __dirname;
const REPO = join(BENCH_DIR, '..');
/** Quiet time after the processes start, before the baseline is sampled. */
const SETTLE_MS = 2_000;
const READY_TIMEOUT_MS = 120_000;
/** Stopping waits for bulk transfers in flight (each bounded at 120 s) and checks the idle ones. */
const FINAL_TIMEOUT_MS = 180_000;
const FD_SETTLE_MS = 20_000;
const FD_POLL_MS = 500;
/** Warm-up: this fraction of the run, at most WARMUP_MAX_SECONDS. */
const WARMUP_FRACTION = 0.25;
const WARMUP_MAX_SECONDS = 60;
const KiB_PER_MiB = 1024;

function sampleProcs(relay: Relay): Partial<Record<Role, ProcSample>> {
	const procs: Partial<Record<Role, ProcSample>> = {};
	for (const side of relay.sides) {
		const pid = side.pids()[0];
		const memory = pid === undefined ? undefined : memoryKiB(pid);
		const fds = pid === undefined ? undefined : openFds(pid);
		if (memory !== undefined && fds !== undefined) {
			procs[side.role === 'server' ? 'agent' : 'forward'] = { rssKiB: memory.rss, hwmKiB: memory.hwm, fds };
		}
	}
	return procs;
}

/** The load program's last status line (or its ready line). */
function lastStatus(load: Proc): LoadCounters | undefined {
	for (let i = load.stdout.length - 1; i >= 0; i--) {
		const line = load.stdout[i]!;
		if (line.startsWith('{"type":"status"') || line.startsWith('{"type":"ready"')) {
			return JSON.parse(line) as LoadCounters;
		}
	}
	return undefined;
}

function progress(sample: SoakSample): string {
	const p = (role: Role): string => {
		const s = sample.procs[role];
		return s ? `${role} ${(s.rssKiB / KiB_PER_MiB).toFixed(1)} MiB ${s.fds} fds` : `${role} gone`;
	};
	const l = sample.load;
	const work = l ? `; ${l.connections} connections, ${l.bulk} bulk, ${errorCount(l)} errors` : '';
	return `[soak ${sample.seconds.toFixed(0)} s] ${p('agent')}, ${p('forward')}${work}`;
}

/**
 * Runs the load for the configured time, sampling into `samples`; returns when it started
 * (Date.now()) and what went wrong, if anything.
 */
async function runLoad(
	settings: SoakSettings,
	relay: Relay,
	load: Proc,
	samples: SoakSample[],
): Promise<{ started: number; failure: string | undefined }> {
	await load.waitForLine(/^\{"type":"ready"/, READY_TIMEOUT_MS);
	const started = Date.now();
	const end = started + settings.minutes * 60_000;
	while (Date.now() < end) {
		await sleep(Math.min(settings.sampleSeconds * 1000, end - Date.now()));
		const failure = relay.failure() ?? load.describeExit();
		const sample: SoakSample = {
			seconds: (Date.now() - started) / 1000,
			phase: 'load',
			procs: sampleProcs(relay),
			load: lastStatus(load),
		};
		samples.push(sample);
		console.log(progress(sample));
		if (failure !== undefined) {
			return { started, failure };
		}
	}
	return { started, failure: undefined };
}

/** Stops the load and waits for its final counters. */
async function stopLoad(load: Proc): Promise<FinalCounters> {
	load.send('stop');
	const line = await load.waitForLine(/^\{"type":"final"/, FINAL_TIMEOUT_MS);
	return JSON.parse(line.input) as FinalCounters;
}

/** Samples once the descriptors are back to the baseline, or after FD_SETTLE_MS. */
async function afterSample(relay: Relay, baseline: SoakSample, started: number): Promise<SoakSample> {
	const deadline = Date.now() + FD_SETTLE_MS;
	let procs = sampleProcs(relay);
	const back = (): boolean =>
		(['agent', 'forward'] as const).every(
			(r) => (procs[r]?.fds ?? Infinity) <= (baseline.procs[r]?.fds ?? 0),
		);
	while (!back() && Date.now() < deadline) {
		await sleep(FD_POLL_MS);
		procs = sampleProcs(relay);
	}
	return { seconds: (Date.now() - started) / 1000, phase: 'after', procs };
}

/** Each process's descriptors (their /proc/PID/fd link targets), to compare after the load. */
function fdSnapshot(relay: Relay): Partial<Record<Role, string[]>> {
	const snapshot: Partial<Record<Role, string[]>> = {};
	for (const side of relay.sides) {
		const pid = side.pids()[0];
		const targets = pid === undefined ? undefined : fdTargets(pid);
		if (targets !== undefined) {
			snapshot[side.role === 'server' ? 'agent' : 'forward'] = targets;
		}
	}
	return snapshot;
}

/**
 * What each process holding more descriptors after the load than before it holds beyond the
 * baseline: the count by kind, and each new socket as `ss` shows it (or as closed-but-held).
 */
function lingeringFds(relay: Relay, baseline: Partial<Record<Role, string[]>>): string[] {
	const after = fdSnapshot(relay);
	const sockets = socketsByInode();
	const lines: string[] = [];
	for (const role of ['agent', 'forward'] as const) {
		const before = baseline[role];
		const now = after[role];
		if (before !== undefined && now !== undefined && now.length > before.length) {
			lines.push(...describeExtraFds(before, now, sockets).map((line) => `${role}: ${line}`));
		}
	}
	return lines;
}

/** What driving the load found, besides the samples. */
interface LoadResult {
	final?: FinalCounters;
	failure?: string;
	lingering?: string[];
}

/** Baseline, the load for its minutes with samples, its stop, and the "after" sample. */
async function driveLoad(settings: SoakSettings, relay: Relay, samples: SoakSample[]): Promise<LoadResult> {
	const result: LoadResult = {};
	await sleep(SETTLE_MS);
	const baseline: SoakSample = { seconds: 0, phase: 'baseline', procs: sampleProcs(relay) };
	const baselineFds = fdSnapshot(relay);
	samples.push(baseline);
	console.log(progress(baseline));
	const script = join(BENCH_DIR, 'load', 'soak-load.ts');
	const args = [relay.port, settings.idle, settings.bulk, settings.churn].map(String);
	const load = startProc('soak load', process.execPath, ['--import', 'tsx', script, ...args], {
		stdin: true,
	});
	const run = await runLoad(settings, relay, load, samples);
	if (run.failure !== undefined) {
		result.failure = run.failure;
	}
	if (load.alive) {
		try {
			result.final = await stopLoad(load);
		} catch (error) {
			result.failure ??= (error as Error).message;
		}
	}
	await load.stop(2_000);
	const after = await afterSample(relay, baseline, run.started);
	samples.push(after);
	console.log(progress(after));
	result.lingering = lingeringFds(relay, baselineFds);
	return result;
}

/** One soak: the bulk server, Berth's two processes, the load; everything stopped after. */
async function soak(
	settings: SoakSettings,
	workDir: string,
	serverJs: string,
): Promise<{ outcome: SoakOutcome; relayLog: string }> {
	const bulk = new LoadServer(BENCH_DIR, 'bulk');
	await bulk.start();
	const ctx = { workDir, serverJs, berthLogLevel: settings.berthLogLevel, profileDir: undefined };
	const relay = await startBerth(ctx, bulk.port, settings.transport, 'soak');
	const samples: SoakSample[] = [];
	const warmupSeconds = Math.min(WARMUP_MAX_SECONDS, Math.round(settings.minutes * 60 * WARMUP_FRACTION));
	let result: LoadResult;
	try {
		result = await driveLoad(settings, relay, samples);
	} catch (error) {
		result = { failure: error instanceof Error ? error.message : String(error) };
	}
	const failure = result.failure ?? relay.failure();
	const relayLog = relay.failure() ?? relay.stderrTails();
	await relay.stop();
	await bulk.stop();
	const outcome: SoakOutcome = {
		samples,
		warmupSeconds,
		...(result.final ? { final: result.final } : {}),
		...(failure ? { failure } : {}),
		...(result.lingering ? { lingering: result.lingering } : {}),
	};
	return { outcome, relayLog };
}

async function main(): Promise<number> {
	const settings = parseSoakSettings(process.argv.slice(2), BENCH_DIR);
	if (settings === undefined) {
		return 0;
	}
	const workDir = mkdtempSync(join(tmpdir(), 'berth-soak-'));
	const cleanUp = (): void => {
		killAllNow();
		rmSync(workDir, { recursive: true, force: true });
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => {
			cleanUp();
			console.error(`\nsoak: ${signal}: stopped; nothing written.`);
			process.exit(130);
		});
	}
	process.on('exit', cleanUp);
	if (settings.build) {
		console.log('Building dist/ (node esbuild.mjs)');
		const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: 'inherit' });
		if (build.status !== 0) {
			throw new Error(`the build failed (exit ${build.status ?? build.signal})`);
		}
	}
	const serverJs = snapshotBerth(REPO, workDir);
	const facts = machineFacts(REPO, serverJs);
	console.log(`Soak: ${settings.minutes} min, ${settings.transport}, ${facts.berth}`);
	const { outcome, relayLog } = await soak(settings, workDir, serverJs);
	const verdict = judgeSoak(outcome);
	const failure =
		outcome.failure && relayLog && !outcome.failure.includes(relayLog)
			? `${outcome.failure}\n${relayLog}`
			: outcome.failure;
	const full: SoakOutcome = { ...outcome, ...(failure ? { failure } : {}) };
	const outDir = join(BENCH_DIR, 'out');
	mkdirSync(outDir, { recursive: true });
	const json = join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
	writeFileSync(json, JSON.stringify({ settings, facts, ...full, verdict }, null, '\t') + '\n');
	writeFileSync(settings.out, soakMarkdown(settings, facts, full, verdict, loadAverage()));
	console.log(`\n${verdict.line}\n\nTable: ${settings.out}\nSamples: ${json}`);
	return verdict.pass ? 0 : 1;
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
		process.exit(1);
	},
);
