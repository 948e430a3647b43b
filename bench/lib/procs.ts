/**
 * Child processes of the bench: every process it starts is tracked, and killed with its whole tree
 * (sshd's session processes are grandchildren in their own sessions) on stop, on error, on Ctrl-C
 * and on exit. Also the /proc readers the cases measure with: RSS, CPU time, descendants.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const STDERR_TAIL_LINES = 40;
const EXIT_TAIL_LINES = 30;
/** An ISO date at the start of a log line (Berth's text log format). */
const TIMESTAMP = /^\d{4}-\d\d-\d\dT[\d:.]+Z\s*/;

export interface ProcOptions {
	readonly env?: Readonly<Record<string, string>>;
	readonly cwd?: string;
	/** Keep stdin open as a pipe (for helpers that take commands); default: /dev/null. */
	readonly stdin?: boolean;
}

export interface Exit {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
}

/** A long-running child whose output lines are collected. */
export class Proc {
	readonly stdout: string[] = [];
	private readonly stderrTailLines: string[] = [];
	private lastKey: string | undefined;
	/** How many times the last stderr line repeated (see addStderrLine). */
	private repeats = 0;
	readonly exited: Promise<Exit>;
	private exit: Exit | undefined;
	private readonly lineWaiters = new Set<() => void>();

	constructor(
		readonly name: string,
		readonly child: ChildProcess,
	) {
		tracked.add(this);
		this.exited = new Promise((resolve) =>
			child.once('exit', (code, signal) => {
				this.exit = { code, signal };
				tracked.delete(this);
				this.notify();
				resolve(this.exit);
			}),
		);
		child.once('error', (error) => this.stderrTailLines.push(`spawn error: ${error.message}`));
		if (child.stdout) {
			createInterface({ input: child.stdout }).on('line', (line) => {
				this.stdout.push(line);
				this.notify();
			});
		}
		if (child.stderr) {
			createInterface({ input: child.stderr }).on('line', (line) => this.addStderrLine(line));
		}
	}

	get pid(): number {
		return this.child.pid ?? -1;
	}

	get alive(): boolean {
		return this.exit === undefined && this.child.pid !== undefined;
	}

	/** The last lines it wrote to stderr, for error messages. */
	stderrTail(lines = 12): string {
		return this.stderrTailLines
			.slice(-lines)
			.map((line, i, all) =>
				i === all.length - 1 && this.repeats > 0 ? `${line} (and ${this.repeats} more like it)` : line,
			)
			.join('\n');
	}

	/**
	 * Keeps the last STDERR_TAIL_LINES lines; a line that only repeats the one before (timestamps
	 * aside, e.g. one warning per connection) is counted, so the tail still shows what came first.
	 */
	private addStderrLine(line: string): void {
		const key = line.replace(TIMESTAMP, '');
		if (key === this.lastKey) {
			this.repeats++;
			return;
		}
		if (this.repeats > 0) {
			this.stderrTailLines[this.stderrTailLines.length - 1] += ` (and ${this.repeats} more like it)`;
		}
		this.lastKey = key;
		this.repeats = 0;
		this.stderrTailLines.push(line);
		if (this.stderrTailLines.length > STDERR_TAIL_LINES) {
			this.stderrTailLines.shift();
		}
	}

	/** How it ended, in words; undefined while it runs. */
	describeExit(): string | undefined {
		if (this.exit === undefined) {
			return undefined;
		}
		const how = this.exit.signal !== null ? `signal ${this.exit.signal}` : `code ${this.exit.code}`;
		// A crash's stack trace is ~15 lines: keep the lines above it, which say what happened.
		const tail = this.stderrTail(EXIT_TAIL_LINES);
		return `${this.name} exited with ${how}${tail ? `; its stderr ended with:\n${indent(tail)}` : ''}`;
	}

	/** Resolves with the first stdout line (seen before or after the call) matching `pattern`. */
	waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
		return new Promise((resolve, reject) => {
			const check = (): void => {
				for (let i = from; i < this.stdout.length; i++) {
					const match = pattern.exec(this.stdout[i]!);
					if (match) {
						done();
						resolve(match);
						return;
					}
				}
				if (this.exit !== undefined) {
					done();
					reject(new Error(`${this.describeExit()}\n(before printing a line matching ${pattern})`));
				}
			};
			const timer = setTimeout(() => {
				done();
				reject(new Error(`${this.name}: no stdout line matching ${pattern} within ${timeoutMs} ms`));
			}, timeoutMs);
			const done = (): void => {
				clearTimeout(timer);
				this.lineWaiters.delete(check);
			};
			this.lineWaiters.add(check);
			check();
		});
	}

	/** Writes one line to its stdin. */
	send(line: string): void {
		this.child.stdin?.write(line + '\n');
	}

	/**
	 * SIGTERM to the process (it may stop cleanly and, with --cpu-prof, write its profile), then
	 * SIGKILL to whatever of its tree is left after `graceMs`.
	 */
	async stop(graceMs = 10_000): Promise<void> {
		if (!this.alive) {
			return;
		}
		// Its descendants now, to find them again once it is gone (they then belong to init).
		const tree = identify(descendants(this.pid));
		signal(this.pid, 'SIGTERM');
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
		clearTimeout(timer);
		if (this.alive) {
			tree.push(...identify([this.pid, ...descendants(this.pid)]));
		}
		killSame(tree);
		await this.exited;
	}

	private notify(): void {
		for (const waiter of [...this.lineWaiters]) {
			waiter();
		}
	}
}

const tracked = new Set<Proc>();

/** Starts `command args` with stdout and stderr piped; it is tracked until it exits. */
export function startProc(
	name: string,
	command: string,
	args: readonly string[],
	options: ProcOptions = {},
): Proc {
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: { ...process.env, ...options.env },
		stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
	});
	child.stdin?.on('error', () => undefined);
	return new Proc(name, child);
}

export interface RunResult extends Exit {
	readonly stdout: string;
	readonly stderr: string;
	readonly timedOut: boolean;
}

/** Runs a command to its end (killing it after `timeoutMs`) and collects its output. */
export async function runToEnd(
	name: string,
	command: string,
	args: readonly string[],
	timeoutMs: number,
	options: ProcOptions = {},
): Promise<RunResult> {
	const proc = startProc(name, command, args, options);
	let stdout = '';
	let stderr = '';
	proc.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
	proc.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		void proc.stop(2_000);
	}, timeoutMs);
	const exit = await proc.exited;
	clearTimeout(timer);
	return { ...exit, stdout, stderr, timedOut };
}

/** Kills every tracked process and its descendants at once (synchronous: usable in 'exit'). */
export function killAllNow(): number {
	const all: Identity[] = [];
	for (const proc of tracked) {
		all.push(...identify([proc.pid, ...descendants(proc.pid)]));
	}
	tracked.clear();
	return killSame(all);
}

/** A process as it was seen: its pid and its start time, so that a reused pid is never signalled. */
interface Identity {
	readonly pid: number;
	readonly start: string;
}

function identify(pids: readonly number[]): Identity[] {
	const out: Identity[] = [];
	for (const pid of pids) {
		const stat = readStat(pid);
		if (stat) {
			out.push({ pid, start: stat.start });
		}
	}
	return out;
}

/** SIGKILL to each process that is still the one identified; returns how many were signalled. */
function killSame(identities: readonly Identity[]): number {
	let killed = 0;
	for (const { pid, start } of identities) {
		if (readStat(pid)?.start === start && signal(pid, 'SIGKILL')) {
			killed++;
		}
	}
	return killed;
}

export function trackedCount(): number {
	return tracked.size;
}

function signal(pid: number, name: NodeJS.Signals): boolean {
	if (pid <= 0) {
		return false;
	}
	try {
		process.kill(pid, name);
		return true;
	} catch {
		return false;
	}
}

export function indent(text: string): string {
	return text
		.split('\n')
		.map((line) => `    ${line}`)
		.join('\n');
}

// ---- /proc ----

interface StatFields {
	readonly ppid: number;
	/** utime + stime + cutime + cstime, in clock ticks. */
	readonly ticks: number;
	/** stime + cstime, in clock ticks. */
	readonly systemTicks: number;
	/** Start time after boot (field 22), which tells a reused pid from the process it was. */
	readonly start: string;
}

function readStat(pid: number): StatFields | undefined {
	let text: string;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'latin1');
	} catch {
		return undefined;
	}
	// The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
	const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
	// rest[0] is field 3 (state): field N is rest[N - 3].
	const field = (n: number): number => Number(rest[n - 3]);
	return {
		ppid: field(4),
		ticks: field(14) + field(15) + field(16) + field(17),
		systemTicks: field(15) + field(17),
		start: rest[22 - 3] ?? '',
	};
}

/** Every live descendant of `pid` (children, their children, ...), by walking /proc. */
export function descendants(pid: number): number[] {
	if (pid <= 0) {
		return [];
	}
	const children = new Map<number, number[]>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) {
			continue;
		}
		const stat = readStat(Number(entry));
		if (stat) {
			const list = children.get(stat.ppid) ?? [];
			list.push(Number(entry));
			children.set(stat.ppid, list);
		}
	}
	const result: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		for (const child of children.get(queue.shift()!) ?? []) {
			result.push(child);
			queue.push(child);
		}
	}
	return result;
}

/** VmRSS of the processes together, in KiB (processes that are gone count 0). */
export function rssKiB(pids: readonly number[]): number {
	let total = 0;
	for (const pid of pids) {
		try {
			const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
			total += match ? Number(match[1]) : 0;
		} catch {
			// gone
		}
	}
	return total;
}

/** VmRSS and VmHWM (peak RSS) of one process, in KiB; undefined once it is gone. */
export function memoryKiB(pid: number): { rss: number; hwm: number } | undefined {
	let status: string;
	try {
		status = readFileSync(`/proc/${pid}/status`, 'latin1');
	} catch {
		return undefined;
	}
	const field = (name: string): number =>
		Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
	return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** How many file descriptors a process has open (/proc/PID/fd); undefined once it is gone. */
export function openFds(pid: number): number | undefined {
	try {
		return readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return undefined;
	}
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of /proc's CPU times. */
export function clockTicks(): number {
	ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
	return ticksPerSecond;
}

/** CPU seconds (user + system, including waited-for children) of the processes together. */
export function cpuSeconds(pids: readonly number[]): number {
	return cpuTimes(pids).total;
}

/** CPU seconds of the processes together: in all, and in the kernel (system time). */
export function cpuTimes(pids: readonly number[]): { total: number; system: number } {
	let ticks = 0;
	let systemTicks = 0;
	for (const pid of pids) {
		const stat = readStat(pid);
		ticks += stat?.ticks ?? 0;
		systemTicks += stat?.systemTicks ?? 0;
	}
	return { total: ticks / clockTicks(), system: systemTicks / clockTicks() };
}

/** The soft limit on open files of this process, from /proc/self/limits. */
export function openFilesLimit(): number {
	const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
	return match?.[1] === 'unlimited' ? Infinity : Number(match?.[1] ?? 1024);
}
