/**
 * Issue 13's resume case: how long a `berth forward -L` session takes to carry bytes again after
 * its connection to the agent is cut, against a new session's connect and handshake, and against
 * ssh's only way back, a new `ssh -L`. A driver process (load/resume-client.ts) holds the cutting
 * proxy (test/helpers/fault-proxy.ts, the tests' own) and times everything on one clock.
 */
import { join } from 'node:path';
import { get, type CaseDef, type Collected } from './case-def';
import type { Settings } from './options';
import {
	relayOf,
	sshClientArgs,
	startBerthVia,
	startSshd,
	type PathContext,
	type PathDef,
	type PathId,
	type Relay,
} from './paths';
import { startProc, type Proc } from './procs';
import { cell, DASH, fixed, ratio, type Table } from './report';

const DRIVER = join(__dirname, '..', 'load', 'resume-client.ts');
/** The driver's line once its proxies listen: the cut proxy's port, then the new sessions'. */
const PROXIES_READY = /^resume proxies on (\d+) (\d+)$/;
const READY_TIMEOUT_MS = 20_000;
/** A whole measurement's bound (the driver bounds each sample at 20 s itself). */
const RUN_TIMEOUT_MS = 30 * 60_000;
/** The uncut round trips the driver makes after each resume (resume-berth.ts). */
const ROUND_TRIPS_BETWEEN_CUTS = 5;
const RESUME_PATHS: readonly PathId[] = ['ssh', 'berth-tcp', 'berth-ws'];

/** A started path whose driver runs the measurement. */
interface ResumeRelay extends Relay {
	run(settings: Settings, echoPort: number): Promise<Record<string, number>>;
}

function isResumeRelay(relay: Relay): relay is ResumeRelay {
	return typeof (relay as Partial<ResumeRelay>).run === 'function';
}

function startDriver(args: readonly string[]): Proc {
	return startProc('resume driver', process.execPath, ['--import', 'tsx', DRIVER, ...args], { stdin: true });
}

/** Gives the driver its run (one JSON line) and waits for its result (the next JSON line). */
async function driverRun(driver: Proc, run: object): Promise<Record<string, number>> {
	const from = driver.stdout.length;
	driver.send(JSON.stringify(run));
	const line = await driver.waitForLine(/^\{/, RUN_TIMEOUT_MS, from);
	const result = JSON.parse(line.input) as Record<string, number | string>;
	if (typeof result.error === 'string') {
		throw new Error(`resume driver: ${result.error}`);
	}
	return result as Record<string, number>;
}

/** The agent, the driver's proxies in front of it, and `berth forward -L` to the echo server through them. */
async function startBerthResume(
	ctx: PathContext,
	path: PathDef,
	target: number,
	runLabel: string,
): Promise<ResumeRelay> {
	const transport = path.id === 'berth-ws' ? 'websocket' : 'tcp';
	let driver: Proc | undefined;
	const relay = await startBerthVia(ctx, target, transport, runLabel, async ({ url, tokenFile }) => {
		const started = startDriver(['berth', new URL(url).port, transport, tokenFile]);
		driver = started;
		try {
			const ready = await started.waitForLine(PROXIES_READY, READY_TIMEOUT_MS);
			return { proc: started, url: `ws://127.0.0.1:${ready[1]}` };
		} catch (error) {
			await started.stop();
			throw error;
		}
	});
	const run = (settings: Settings, echoPort: number) =>
		driverRun(driver!, {
			localPort: relay.port,
			echoPort,
			warmup: settings.cutsWarmup,
			count: settings.cuts,
		});
	return { ...relay, run };
}

/** A private sshd and the driver's proxy in front of it; each sample starts its own `ssh -L`. */
async function startSshResume(ctx: PathContext): Promise<ResumeRelay> {
	const { sshd, port } = await startSshd(ctx.ssh);
	const driver = startDriver(['ssh', String(port)]);
	const relay = relayOf(port, [driver, sshd], []);
	try {
		const ready = await driver.waitForLine(PROXIES_READY, READY_TIMEOUT_MS);
		const sshArgs = [
			...sshClientArgs(ctx.ssh, Number(ready[1]), undefined),
			'-o',
			'ExitOnForwardFailure=yes',
			'-N',
			// -v: ssh says when its -L listens (nothing else does, short of polling the port).
			'-v',
		];
		const destination = `${ctx.ssh.user}@127.0.0.1`;
		const run = (settings: Settings, echoPort: number) =>
			driverRun(driver, {
				echoPort,
				warmup: settings.cutsWarmup,
				count: settings.cuts,
				sshArgs,
				destination,
			});
		return { ...relay, run };
	} catch (error) {
		await relay.stop();
		throw error;
	}
}

/** One row of the table: a figure the driver measured, on the paths it applies to. */
interface Figure {
	readonly metric: string;
	readonly label: string;
}

const BERTH_FIGURES: readonly Figure[] = [
	{ metric: 'resume', label: 'cut → first byte after it (session resumed)' },
	{ metric: 'fresh', label: 'new session: connect → serverInfo' },
	{ metric: 'freshByte', label: 'new session: connect → first echoed byte' },
	{ metric: 'rtt', label: 'round trip, no cut (reference)' },
];
const SSH_FIGURES: readonly Figure[] = [
	{ metric: 'fresh', label: 'new ssh -L: start → first echoed byte' },
	{ metric: 'listen', label: 'new ssh -L: start → its forward listens' },
];
/** The peer of every ratio: a new ssh -L until its first forwarded byte. */
const PEER = { id: 'ssh' as PathId, metric: 'fresh' };

function figureRow(collected: Collected, path: PathDef, figure: Figure): string[] {
	const at = (stat: string) => get(collected, path.id, `${figure.metric}.${stat}`);
	const peer = (stat: string) => get(collected, PEER.id, `${PEER.metric}.${stat}`);
	const perSession =
		path.id !== 'ssh' && figure.metric === 'resume'
			? ratio(at('p50'), get(collected, path.id, 'fresh.p50'))
			: DASH;
	// Berth's figures are a few thousandths of ssh's: two decimals would show 0.00 or 0.01.
	const digits = 3;
	return [
		path.label,
		figure.label,
		cell(at('min'), 0),
		cell(at('p50'), 0),
		cell(at('p99'), 0),
		ratio(at('p50'), peer('p50'), digits),
		ratio(at('p99'), peer('p99'), digits),
		perSession,
	];
}

function resumeTable(collected: Collected, paths: readonly PathDef[], settings: Settings): Table {
	const rows = paths.flatMap((path) =>
		(path.id === 'ssh' ? SSH_FIGURES : BERTH_FIGURES).map((figure) => figureRow(collected, path, figure)),
	);
	return {
		title: `Resume after a cut: a 1-byte ping-pong through -L, its connection to the agent cut ${settings.cuts} times after ${settings.cutsWarmup} untimed cuts; new sessions and new ssh -L as many times: µs (min / median / max of each statistic over the repetitions)`,
		headers: [
			'path',
			'figure',
			'min',
			'median',
			'p99',
			'median / new ssh -L',
			'p99 / new ssh -L',
			'median / new session to serverInfo',
		],
		rows,
		textColumns: 2,
		notes: [
			`Cut: the driver writes one byte to the forward's local socket and at once resets both sides of the forward's connection to the agent (a TCP proxy between them, test/helpers/fault-proxy.ts); the figure is the time from the cut to that byte's echo: noticing the reset, a new connection with the session's reconnection token (TCP connect, HTTP upgrade, the signed handshake), the replay of what was unacknowledged, one round trip to the echo server. After each cut, ${ROUND_TRIPS_BETWEEN_CUTS} uncut round trips (the reference row).`,
			"New session: the client library's StreamSession.connect (what berth forward does to open a session: connect, upgrade, handshake, hello and serverInfo) in the driver, a warm process as the forward is when it resumes, through a second proxy of the same kind; then a stream to the echo server with one byte right behind its Open. One after each cut.",
			"ssh cannot resume: a dropped ssh loses its forwards, and the way back is a new ssh -N -L (as autossh starts it): starting ssh, sshd's new session process, key exchange, public-key authentication, through the same kind of proxy; then one byte through the forward. The peer of the ratios.",
		],
	};
}

export const resume: CaseDef = {
	id: 'resume',
	title: 'Resume after a cut',
	target: 'echo',
	applies: (path) => RESUME_PATHS.includes(path.id),
	start: (ctx, path, target, runLabel) =>
		path.id === 'ssh' ? startSshResume(ctx) : startBerthResume(ctx, path, target, runLabel),
	async measure(env, relay) {
		if (!isResumeRelay(relay)) {
			throw new Error('the resume case measures only paths it started itself');
		}
		const values = await relay.run(env.settings, env.echo.port);
		if ((values.extraDials ?? 0) > 0) {
			env.note(
				`the forward dialled ${values.extraDials} more times than it was cut (failed resume attempts)`,
			);
		}
		return values;
	},
	describe: (v) =>
		v['resume.p50'] === undefined
			? `new ssh -L to first byte: median ${fixed(v['fresh.p50'], 0)} µs, p99 ${fixed(v['fresh.p99'], 0)} µs`
			: `cut to first byte: median ${fixed(v['resume.p50'], 0)} µs, p99 ${fixed(v['resume.p99'], 0)} µs; new session ${fixed(v['fresh.p50'], 0)} µs`,
	report: (collected, paths, settings) => ({ table: resumeTable(collected, paths, settings), goals: [] }),
};
