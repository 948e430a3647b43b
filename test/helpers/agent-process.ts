import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseListeningLine } from '../../protocol/listening-line';
import { waitFor, within } from './wait';

/** Extra node flags for every process started here (experiments: BERTH_TEST_NODE_FLAGS). */
const NODE_FLAGS = (process.env['BERTH_TEST_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);

/** The bundled CLI every integration test runs: the real dist/server.js. */
export const SERVER_JS = join(__dirname, '..', '..', 'dist', 'server.js');

export interface AgentProcess {
	readonly url: string;
	readonly port: number;
	/** The connection token (undefined when started without one). */
	readonly token: string | undefined;
	readonly configDir: string;
	readonly child: ChildProcess;
	readonly stdout: string[];
	readonly stderr: string[];
	/** Resolves with the first stderr line matching `pattern` (past or future). */
	waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
	/** SIGTERM (or `signal`), then the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartAgentOptions {
	/** Extra flags for `berth server`. */
	readonly args?: readonly string[];
	/** The token to give through --connection-token-file; null starts --without-connection-token; default: random. */
	readonly token?: string | null;
	readonly env?: Readonly<Record<string, string>>;
	/**
	 * A command that runs the agent, given node and its arguments after its own (e.g. `unshare`
	 * with a shell that ends in `exec "$0" "$@"`); it must exec node, so signals reach the agent.
	 */
	readonly wrapper?: readonly string[];
	/** Runs the agent under `ulimit -n` this low (its soft and hard open-files limit). */
	readonly openFilesLimit?: number;
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'berth-test-'): string {
	return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `node dist/server.js server --port 0` and resolves once it announced its URL. */
export async function startAgent(options: StartAgentOptions = {}): Promise<AgentProcess> {
	const dir = tempDir();
	const configDir = join(dir, 'config');
	const token = options.token === null ? undefined : (options.token ?? randomBytes(16).toString('hex'));
	const args = ['server', '--port', '0', ...(options.args ?? [])];
	if (token !== undefined) {
		const file = join(dir, 'token');
		writeFileSync(file, token + '\n', { mode: 0o600 });
		args.push('--connection-token-file', file);
	} else {
		args.push('--without-connection-token');
	}
	const command = [...(options.wrapper ?? []), process.execPath, ...NODE_FLAGS, SERVER_JS, ...args];
	// `exec` keeps the pid: the child is the agent itself, limit included.
	const limited = (limit: number) =>
		['sh', ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh', ...command]] as const;
	const [file, argv] =
		options.openFilesLimit !== undefined ? limited(options.openFilesLimit) : [command[0]!, command.slice(1)];
	const child = spawn(file, argv, {
		env: { ...process.env, BERTH_CONFIG_DIR: configDir, ...options.env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const stdout: string[] = [];
	const stderr: string[] = [];
	createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
	createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

	const first = await within(
		Promise.race([
			waitFor(() => stdout[0], 'the agent to print its URL', 15_000),
			exited.then((code) => {
				throw new Error(`agent exited with ${code} before listening:\n${stderr.join('\n')}`);
			}),
		]),
		20_000,
		'agent start',
	);
	const url = parseListeningLine(first);
	if (url === undefined) {
		child.kill('SIGKILL');
		throw new Error(`unexpected first line: ${first}`);
	}
	return {
		url,
		port: Number(new URL(url).port),
		token,
		configDir,
		child,
		stdout,
		stderr,
		waitForLog: (pattern, timeoutMs = 10_000) =>
			waitFor(() => stderr.find((line) => pattern.test(line)), `a log line matching ${pattern}`, timeoutMs),
		stop: async (signal = 'SIGTERM') => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill(signal);
			}
			return within(exited, 10_000, 'agent exit');
		},
	};
}

export interface CliResult {
	readonly code: number | null;
	readonly stdout: string;
	readonly stderr: string;
}

/** Runs `node dist/server.js ARGS` to completion (or kills it after `timeoutMs`). */
export function runCli(
	args: readonly string[],
	options: {
		stdin?: string;
		env?: Readonly<Record<string, string>>;
		timeoutMs?: number;
		cwd?: string;
		script?: string;
	} = {},
): Promise<CliResult> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [...NODE_FLAGS, options.script ?? SERVER_JS, ...args], {
			env: { ...process.env, BERTH_CONFIG_DIR: tempDir(), ...options.env },
			stdio: ['pipe', 'pipe', 'pipe'],
			cwd: options.cwd,
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		child.stdin.end(options.stdin ?? '');
		const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
		child.on('exit', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

/** A long-running CLI process (e.g. `berth forward`) whose output lines can be awaited. */
export interface CliProcess {
	readonly child: ChildProcess;
	readonly stdout: string[];
	readonly stderr: string[];
	waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
	waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
	stop(signal?: NodeJS.Signals): Promise<number | null>;
	readonly exited: Promise<number | null>;
}

export function spawnCli(
	args: readonly string[],
	options: {
		stdin?: string;
		env?: Readonly<Record<string, string>>;
		/** Working folder (default: this process's). */
		cwd?: string;
		/** Another copy of the CLI to run instead of dist/server.js. */
		script?: string;
	} = {},
): CliProcess {
	const child = spawn(process.execPath, [...NODE_FLAGS, options.script ?? SERVER_JS, ...args], {
		env: { ...process.env, BERTH_CONFIG_DIR: tempDir(), ...options.env },
		stdio: ['pipe', 'pipe', 'pipe'],
		cwd: options.cwd,
	});
	child.stdin!.end(options.stdin ?? '');
	const stdout: string[] = [];
	const stderr: string[] = [];
	createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
	createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return {
		child,
		stdout,
		stderr,
		exited,
		waitForStdout: (pattern, timeoutMs = 10_000) =>
			waitFor(
				() => {
					for (const line of stdout) {
						const m = pattern.exec(line);
						if (m) {
							return m;
						}
					}
					if (child.exitCode !== null || child.signalCode !== null) {
						throw new Error(`exited ${child.exitCode ?? child.signalCode}: ${stderr.join('\n')}`);
					}
					return undefined;
				},
				`stdout matching ${pattern}`,
				timeoutMs,
			),
		waitForStderr: (pattern, timeoutMs = 10_000) =>
			waitFor(() => stderr.find((l) => pattern.test(l)), `stderr matching ${pattern}`, timeoutMs),
		stop: async (signal = 'SIGTERM') => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill(signal);
			}
			return within(exited, 10_000, 'cli exit');
		},
	};
}

/**
 * Starts `berth forward -u AGENT --token-file … SPECS… EXTRA…` and resolves once every -L/-R
 * announced its `Forwarding` line, with the ports they listen on (in order).
 */
export async function startForward(
	agent: AgentProcess,
	specs: readonly string[],
	extra: readonly string[] = [],
): Promise<{ cli: CliProcess; ports: number[] }> {
	const tokenFile = join(tempDir(), 'token');
	writeFileSync(tokenFile, agent.token + '\n', { mode: 0o600 });
	const cli = spawnCli(['forward', '-u', agent.url, '--token-file', tokenFile, ...specs, ...extra]);
	const expected = specs.filter((s) => s === '-L' || s === '-R').length;
	await waitFor(
		() => cli.stdout.filter((l) => l.startsWith('Forwarding')).length >= expected || undefined,
		'forwards to open',
		15_000,
	);
	const ports = cli.stdout
		.filter((l) => l.startsWith('Forwarding'))
		.map((l) => Number(/^Forwarding (?:agent )?\S+:(\d+) ->/.exec(l)![1]));
	return { cli, ports };
}
