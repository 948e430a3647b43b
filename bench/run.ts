/**
 * Berth's benchmark (issue 3): `npm run bench -- [--quick] [--only CASES] [--paths PATHS]`.
 *
 * Starts everything itself on 127.0.0.1 (an iperf3 server, a Node echo server, a private sshd,
 * Berth's CLI from dist/server.js), runs each case `reps` times with the paths interleaved
 * within each repetition, prints one table per case (min / median / max, ratios to ssh -L with
 * the default cipher, goals met or not) and writes bench/RESULTS.md plus raw values under
 * bench/out/. Every process it starts is killed on the way out, also on errors and Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotBerth } from './lib/bundle';
import { casePaths } from './lib/case-def';
import { CASES, type CaseDef, type CaseEnv, type Collected } from './lib/cases';
import {
	cpuAccount,
	loadAverage,
	machineFacts,
	othersCores,
	type CpuAccount,
	type MachineFacts,
} from './lib/machine';
import { parseSettings, type CaseId, type Settings } from './lib/options';
import {
	PATHS,
	prepareSsh,
	probeSshCipher,
	type PathContext,
	type PathDef,
	type PathId,
	type Relay,
} from './lib/paths';
import { killAllNow, openFilesLimit } from './lib/procs';
import { findProfiles, formatSummary, summarizeProfile } from './lib/profile';
import { goalsTable, renderMarkdown, renderText, type GoalResult, type Table } from './lib/report';
import { IperfServer, LoadServer } from './lib/services';

const BENCH_DIR = __dirname;
const REPO = join(BENCH_DIR, '..');
const RAISED_ENV = 'BERTH_BENCH_FD_RAISED';

/** One measurement: one case (one of its variants, if it has any), one path, one repetition. */
interface Run {
	readonly case: CaseId;
	readonly variant?: string;
	readonly path: PathId;
	readonly rep: number;
	readonly values: Record<string, number>;
	readonly notes: string[];
	readonly error?: string;
	readonly seconds: number;
}

interface CaseTiming {
	readonly case: CaseId;
	readonly seconds: number;
	/** Average cores kept busy by processes outside the bench while the case ran. */
	readonly othersCores: number;
	readonly loadAverage: string;
}

/**
 * 10,000 connections need more open files than the usual soft limit of 1024, and Node cannot call
 * setrlimit: run the bench again under bash with the limit raised (as far as the hard limit allows,
 * or beyond it where the user may), so every process it starts inherits it.
 */
function reexecWithRaisedLimit(): Promise<number> {
	const script =
		'ulimit -Hn 1048576 2>/dev/null; ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
	const child = spawn(
		'bash',
		['-c', script, 'bash', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)],
		{ stdio: 'inherit', env: { ...process.env, [RAISED_ENV]: '1' } },
	);
	// Ctrl-C reaches the child through the terminal's process group; other signals are passed on.
	process.on('SIGINT', () => undefined);
	for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => child.kill(signal));
	}
	return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

function heading(text: string): void {
	console.log(`\n=== ${text} ===`);
}

function run(command: string, args: readonly string[], what: string): void {
	const result = spawnSync(command, args, { cwd: REPO, stdio: 'inherit' });
	if (result.status !== 0) {
		throw new Error(`${what} failed (${command} ${args.join(' ')}: exit ${result.status ?? result.signal})`);
	}
}

function timestamp(): string {
	return new Date()
		.toISOString()
		.replace(/[:.]/g, '-')
		.replace(/-\d+Z$/, 'Z');
}

async function main(): Promise<number> {
	const settings = parseSettings(process.argv.slice(2));
	if (settings === undefined) {
		return 0;
	}
	if (process.env[RAISED_ENV] !== '1') {
		return reexecWithRaisedLimit();
	}

	const workDir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
	let interrupted = false;
	const onSignal = (signal: NodeJS.Signals): void => {
		if (interrupted) {
			return;
		}
		interrupted = true;
		const killed = killAllNow();
		console.error(`\nbench: ${signal}: killed ${killed} processes; stopping.`);
		rmSync(workDir, { recursive: true, force: true });
		process.exit(130);
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	process.on('SIGHUP', onSignal);
	process.on('exit', () => {
		killAllNow();
		rmSync(workDir, { recursive: true, force: true });
	});

	const started = Date.now();
	const stamp = timestamp();
	const outDir = join(BENCH_DIR, 'out');
	mkdirSync(outDir, { recursive: true });
	const profileDir = settings.profile ? join(outDir, `profiles-${stamp}`) : undefined;

	if (settings.setup) {
		run('bash', [join(BENCH_DIR, 'setup.sh')], 'bench/setup.sh');
	}
	if (settings.build) {
		console.log('Building dist/ (node esbuild.mjs)');
		run(process.execPath, ['esbuild.mjs'], 'the build');
	}

	const berthJs = snapshotBerth(REPO, workDir);
	const facts = machineFacts(REPO, berthJs);
	let idleConnections = settings.idleConnections;
	const fdLimit = openFilesLimit();
	const fdNotes: string[] = [];
	if (idleConnections + 200 > fdLimit) {
		idleConnections = Math.max(100, fdLimit - 200);
		fdNotes.push(
			`The open-files limit is ${fdLimit} (it could not be raised), so the idle case holds ${idleConnections} connections instead of ${settings.idleConnections}.`,
		);
	}
	const effective: Settings = { ...settings, idleConnections };

	const ssh = prepareSsh(workDir);
	const ciphers: Partial<Record<PathId, string>> = {};
	for (const id of effective.paths) {
		if (id === 'ssh' || id === 'ssh-gcm' || id === 'ssh-D') {
			ciphers[id] = await probeSshCipher(ssh, id === 'ssh-gcm' ? 'aes128-gcm@openssh.com' : undefined);
		}
	}

	printHeader(effective, facts, ciphers, fdNotes);

	const ctx: PathContext = {
		workDir,
		serverJs: berthJs,
		berthLogLevel: effective.berthLogLevel,
		profileDir,
		ssh,
	};
	const iperf = new IperfServer();
	const echo = new LoadServer(BENCH_DIR, 'echo');
	const bulk = new LoadServer(BENCH_DIR, 'bulk');
	await iperf.start();
	await echo.start();
	await bulk.start();

	const runs: Run[] = [];
	const timings: CaseTiming[] = [];
	const paths = effective.paths.map((id) => PATHS[id]);
	const services: Services = { ctx, iperf, echo, bulk };
	for (const caseId of effective.cases) {
		const def = CASES[caseId];
		heading(`${def.title}: ${effective.reps} repetition(s), paths interleaved`);
		const caseStart: CpuAccount = cpuAccount();
		const variants = def.variants?.(effective) ?? [undefined];
		for (let rep = 1; rep <= effective.reps; rep++) {
			for (const variant of variants) {
				for (const path of casePaths(def, paths)) {
					const r = await measureOnce(services, effective, def, path, rep, variant);
					runs.push(r);
					const status = r.error
						? `FAILED: ${r.error.split('\n').join('\n    ')}`
						: def.describe(unprefixed(r.values, variant), variant) +
							(r.notes.length ? ` (${r.notes.join('; ')})` : '');
					const which = variant === undefined ? caseId : `${caseId} ${variant}`;
					console.log(
						`[${which} ${rep}/${effective.reps}] ${path.label}: ${status} (${r.seconds.toFixed(1)} s)`,
					);
				}
			}
		}
		const caseEnd = cpuAccount();
		timings.push({
			case: caseId,
			seconds: (caseEnd.at - caseStart.at) / 1000,
			othersCores: othersCores(caseStart, caseEnd),
			loadAverage: loadAverage(),
		});
	}
	await bulk.stop();
	await echo.stop();
	await iperf.stop();

	// ---- report ----
	const tables: Table[] = [];
	const goals: GoalResult[] = [];
	for (const caseId of effective.cases) {
		const collected = collect(runs, caseId);
		const def = CASES[caseId];
		const { table, goals: caseGoals } = def.report(collected, casePaths(def, paths), effective);
		const problems = runs
			.filter((r) => r.case === caseId && (r.error !== undefined || r.notes.length > 0))
			.map(
				(r) =>
					`${PATHS[r.path].label}${r.variant === undefined ? '' : `, ${r.variant}`}, repetition ${r.rep}: ${r.error ?? r.notes.join('; ')}`,
			);
		tables.push({ ...table, notes: [...table.notes, ...problems.map((p) => p.split('\n')[0]!)] });
		goals.push(...caseGoals);
	}
	const totalSeconds = (Date.now() - started) / 1000;
	const others = timings.length
		? timings.reduce((a, t) => a + t.othersCores * t.seconds, 0) / timings.reduce((a, t) => a + t.seconds, 0)
		: 0;

	heading('Results');
	for (const table of tables) {
		console.log('\n' + renderText(table));
	}
	if (goals.length > 0) {
		console.log('\n' + renderText(goalsTable(goals)));
	}
	console.log(
		`\nOther processes kept ${others.toFixed(2)} of ${facts.nproc} cores busy on average during the run (load average at the end: ${loadAverage()}).`,
	);

	const profiles = profileDir ? summarizeProfiles(profileDir) : undefined;
	const raw = {
		settings: effective,
		facts,
		ciphers,
		totalSeconds,
		othersCores: others,
		timings,
		runs,
		goals,
		profileDir,
	};
	const jsonFile = join(outDir, `results-${stamp}.json`);
	writeFileSync(jsonFile, JSON.stringify(raw, null, '\t') + '\n');
	const markdown = resultsMarkdown(
		effective,
		facts,
		ciphers,
		tables,
		goals,
		timings,
		others,
		totalSeconds,
		fdNotes,
	);
	writeFileSync(join(outDir, `results-${stamp}.md`), markdown);
	console.log(`\nRaw values: ${jsonFile}`);
	if (settings.complete || settings.writeResults) {
		writeFileSync(join(BENCH_DIR, 'RESULTS.md'), markdown);
		console.log(`Tables: ${join(BENCH_DIR, 'RESULTS.md')}`);
	} else {
		console.log(
			`Tables: ${join(outDir, `results-${stamp}.md`)} (bench/RESULTS.md is written by full runs, or with --write-results)`,
		);
	}
	if (profiles) {
		console.log(`\nCPU profiles of Berth's processes: ${profileDir} (summary in ${profiles})`);
	}
	console.log(`Finished in ${(totalSeconds / 60).toFixed(1)} minutes.`);
	return runs.some((r) => r.error !== undefined) ? 1 : 0;
}

/** A run's values named as its case's measure() returned them ("64.gbps" -> "gbps"). */
function unprefixed(values: Record<string, number>, variant: string | undefined): Record<string, number> {
	if (variant === undefined) {
		return values;
	}
	return Object.fromEntries(Object.entries(values).map(([k, v]) => [k.slice(variant.length + 1), v]));
}

/** What every measurement needs besides its case and path. */
interface Services {
	readonly ctx: PathContext;
	readonly iperf: IperfServer;
	readonly echo: LoadServer;
	readonly bulk: LoadServer;
}

/**
 * One measurement on freshly started relay processes. A failure becomes the run's error, with the
 * relay's exit or, while its processes still run, the tails of their stderr; its values are then
 * just `failed: 1`. A variant's values are stored as "VARIANT.metric".
 */
async function measureOnce(
	services: Services,
	settings: Settings,
	def: CaseDef,
	path: PathDef,
	rep: number,
	variant: string | undefined,
): Promise<Run> {
	const { ctx, iperf, echo, bulk } = services;
	const notes: string[] = [];
	const env: CaseEnv = {
		settings,
		benchDir: BENCH_DIR,
		workDir: ctx.workDir,
		iperf,
		echo,
		bulk,
		note: (t) => notes.push(t),
	};
	const t0 = Date.now();
	let values: Record<string, number> = {};
	let error: string | undefined;
	await echo.ensure();
	await bulk.ensure();
	const target = { iperf: iperf.port, echo: echo.port, bulk: bulk.port }[def.target];
	const label = `${def.id}${variant === undefined ? '' : `-${variant}`}-r${rep}-${path.id}`;
	let relay: Relay | undefined;
	try {
		relay = await (def.start ? def.start(ctx, path, target, label) : path.start(ctx, target, label));
		values = await def.measure(env, relay, path, variant);
		const broken = relay.failure();
		if (broken !== undefined) {
			throw new Error(broken);
		}
	} catch (e) {
		error = e instanceof Error ? e.message : String(e);
		// A measurement that failed because a relay process died says so; if they all still run,
		// what they last wrote to stderr (e.g. a session that failed) says why.
		const why = relay?.failure() ?? relay?.stderrTails() ?? '';
		if (why !== '' && !error.includes(why)) {
			error += `\n${why}`;
		}
		values = { failed: 1 };
	} finally {
		await relay?.stop();
	}
	const prefixed =
		variant === undefined
			? values
			: Object.fromEntries(Object.entries(values).map(([k, v]) => [`${variant}.${k}`, v]));
	return {
		case: def.id,
		...(variant === undefined ? {} : { variant }),
		path: path.id,
		rep,
		values: prefixed,
		notes,
		seconds: (Date.now() - t0) / 1000,
		...(error ? { error } : {}),
	};
}

function collect(runs: readonly Run[], caseId: CaseId): Collected {
	const collected = new Map<PathId, Record<string, number[]>>();
	for (const r of runs) {
		if (r.case !== caseId) {
			continue;
		}
		const byMetric = collected.get(r.path) ?? {};
		for (const [metric, value] of Object.entries(r.values)) {
			(byMetric[metric] ??= []).push(value);
		}
		collected.set(r.path, byMetric);
	}
	return collected;
}

function factsRows(
	facts: MachineFacts,
	ciphers: Partial<Record<PathId, string>>,
	settings: Settings,
): [string, string][] {
	return [
		['date', facts.date],
		['cores (nproc)', String(facts.nproc)],
		['CPU', facts.cpu],
		['memory', facts.memory],
		['OS', facts.os],
		['Node.js', facts.node],
		['OpenSSH', facts.openssh],
		...Object.entries(ciphers).map(([id, c]): [string, string] => [
			`negotiated cipher, ${PATHS[id as PathId].label}`,
			c,
		]),
		['iperf3', facts.iperf3],
		['Berth build measured (`berth --version`)', facts.berth],
		[
			'commit',
			facts.commit +
				(facts.uncommitted.length
					? ` plus uncommitted changes in ${facts.uncommitted.length} file(s) (dist/ was built from the working tree)`
					: ''),
		],
		['open-files limit', String(facts.openFilesLimit)],
		['Berth log level', settings.berthLogLevel],
		['load average at start', facts.loadAverageAtStart],
	];
}

function printHeader(
	settings: Settings,
	facts: MachineFacts,
	ciphers: Partial<Record<PathId, string>>,
	notes: readonly string[],
): void {
	heading('Berth bench');
	for (const [k, v] of factsRows(facts, ciphers, settings)) {
		console.log(`${k.padEnd(48)} ${v}`);
	}
	console.log(
		`cases: ${settings.cases.join(', ')}; paths: ${settings.paths.join(', ')}; ${settings.reps} repetition(s)${settings.quick ? ' (quick)' : ''}`,
	);
	for (const note of notes) {
		console.log(`note: ${note}`);
	}
}

function resultsMarkdown(
	settings: Settings,
	facts: MachineFacts,
	ciphers: Partial<Record<PathId, string>>,
	tables: readonly Table[],
	goals: readonly GoalResult[],
	timings: readonly CaseTiming[],
	others: number,
	totalSeconds: number,
	notes: readonly string[],
): string {
	const kind = settings.complete
		? 'a full run'
		: `a partial run (${settings.quick ? 'quick; ' : ''}cases: ${settings.cases.join(', ')}; paths: ${settings.paths.join(', ')}; ${settings.reps} repetition(s))`;
	const busy =
		others >= 0.25
			? `The machine was busy: other processes (other engineers' builds and tests) kept ${others.toFixed(2)} of ${facts.nproc} cores busy on average during the run, so absolute figures are lower and noisier than on an idle machine; the paths were interleaved, so the ratios are the figures to read.`
			: `Other processes kept ${others.toFixed(2)} of ${facts.nproc} cores busy on average during the run.`;
	const lines = [
		'# Berth benchmark results',
		'',
		`Written by \`npm run bench\` (bench/run.ts) from ${kind}, ${facts.date}, in ${(totalSeconds / 60).toFixed(1)} minutes.`,
		'Every case ran its repetitions with all paths interleaved (A B C D E, A B C D E, ...), each',
		'measurement with freshly started relay processes; cells are min / median / max over the',
		'repetitions, ratios use medians, and the peer for every ratio and goal is `ssh -L` with the',
		'default cipher (for the proxy cases: `ssh -D`), measured in the same run. Method: bench/README.md and',
		'/work/shared/reference/perf-anchors.md.',
		'',
		busy,
		'',
		'## Machine and tools',
		'',
		'| item | value |',
		'|---|---|',
		...factsRows(facts, ciphers, settings).map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
		'',
		...notes.flatMap((n) => [n, '']),
		'## Results',
		'',
		...tables.flatMap((t) => [renderMarkdown(t), '']),
	];
	if (goals.length > 0) {
		lines.push(
			'## Goals',
			'',
			renderMarkdown(goalsTable(goals)),
			'',
			'What limits the figures Berth misses, with the measurements behind it: ' +
				'[bench/README.md, "What limits Berth"](README.md#what-limits-berth).',
			'',
		);
	}
	lines.push(
		'## Time per case',
		'',
		'| case | minutes | cores busy with other processes (avg) | load average at its end |',
		'|---|---:|---:|---|',
		...timings.map(
			(t) =>
				`| ${t.case} | ${(t.seconds / 60).toFixed(1)} | ${t.othersCores.toFixed(2)} | ${t.loadAverage} |`,
		),
		'',
	);
	return lines.join('\n');
}

function summarizeProfiles(dir: string): string | undefined {
	const files = findProfiles(dir);
	if (files.length === 0) {
		console.log(`\n--profile: no profiles were written under ${dir}`);
		return undefined;
	}
	const text = files.map((f) => formatSummary(summarizeProfile(f), dir)).join('\n\n') + '\n';
	const summaryFile = join(dir, 'summary.txt');
	writeFileSync(summaryFile, text);
	heading('CPU profiles (self time, top functions)');
	console.log(files.map((f) => formatSummary(summarizeProfile(f, 8), dir)).join('\n\n'));
	return summaryFile;
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
		process.exit(1);
	},
);
