import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BerthError } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import { parseListeningLine } from '../../protocol/listening-line';
import type { Timers } from '../../protocol/timers';
import type { ExtensionLogger } from '../logger';
import { formatAgentLogRecord, parseAgentLogLine, type AgentLogRecord } from './agent-log';

/** How the agent process is started. */
export interface AgentProcessOptions {
	/** The bundled agent: `<extension>/dist/server.js`. */
	readonly serverJs: string;
	/** A private folder (the extension's global storage): the token file and BERTH_CONFIG_DIR live here. */
	readonly storageDir: string;
	readonly token: string;
	/** Where it listens (`--host`, `--port`; 0 lets the system pick). */
	readonly host: string;
	readonly port: number;
	readonly log: ExtensionLogger;
	/** For the start and stop deadlines. */
	readonly timers: Timers;
	/** Time allowed from spawn to the "listening" line. */
	readonly startTimeoutMs?: number;
}

/** How the agent ended: `expected` when `stop()` asked for it. */
export interface AgentExit {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly expected: boolean;
}

const START_TIMEOUT_MS = 15_000;
/** After SIGTERM, the agent has this long to say goodbye to its clients before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** stderr lines kept for the error message of an agent that failed to start. */
const STDERR_TAIL_LINES = 5;

/**
 * The bundled agent, running on this machine as a child of the extension host: `fork`ed so it
 * runs under VS Code's own Node, with the token in a mode-0600 file (never on argv) and an IPC
 * channel whose close makes it exit, so it never outlives the window even if the extension host
 * is killed. Its JSON log lines go to the "Berth" log.
 */
export class AgentProcess extends Disposable {
	private readonly _onDidExit = this._register(new Emitter<AgentExit>());
	readonly onDidExit = this._onDidExit.event;

	private stopping: Promise<void> | undefined;
	private readonly exited: Promise<AgentExit>;

	private constructor(
		private readonly child: ChildProcess,
		private readonly timers: Timers,
		readonly url: string,
		exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
	) {
		super();
		this.exited = exited.then(({ code, signal }) => {
			const exit = { code, signal, expected: this.stopping !== undefined };
			this._onDidExit.fire(exit);
			return exit;
		});
		// Belt and braces for a clean extension-host exit; the IPC channel covers a killed one.
		const onExit = (): void => void this.child.kill('SIGTERM');
		process.once('exit', onExit);
		this._register({ dispose: () => process.off('exit', onExit) });
	}

	/**
	 * Spawns the agent and resolves once it printed its URL.
	 * @throws BerthError BERTH_ERR_LISTEN (it exited before listening; the message has its last
	 * stderr lines) or BERTH_ERR_TIMEOUT.
	 */
	static async start(options: AgentProcessOptions): Promise<AgentProcess> {
		const tokenFile = writeTokenFile(options.storageDir, options.token);
		const child = fork(
			options.serverJs,
			[
				'server',
				'--host',
				options.host,
				'--port',
				String(options.port),
				'--connection-token-file',
				tokenFile,
				'--log-format',
				'json',
			],
			{
				stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
				execArgv: [],
				env: {
					...process.env,
					BERTH_CONFIG_DIR: join(options.storageDir, 'agent'),
					// In a desktop window's UI extension host, execPath is VS Code's Electron binary:
					// this makes it run the agent as plain Node (as vscode-languageclient does).
					ELECTRON_RUN_AS_NODE: '1',
				},
			},
		);
		const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
			child.once('exit', (code, signal) => resolve({ code, signal })),
		);
		child.on('error', (error) => options.log.error(`agent process: ${error.message}`));
		const stderrTail: string[] = [];
		createInterface({ input: child.stderr! }).on('line', (line) => {
			stderrTail.push(line);
			stderrTail.splice(0, stderrTail.length - STDERR_TAIL_LINES);
			logAgentLine(options.log, line);
		});
		const firstLine = new Promise<string>((resolve) => {
			let seen = false;
			createInterface({ input: child.stdout! }).on('line', (line) => {
				if (seen) {
					options.log.debug(line);
				} else {
					seen = true;
					resolve(line);
				}
			});
		});
		try {
			const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
			const url = await waitForUrl(firstLine, exited, { timers: options.timers, timeoutMs }, stderrTail);
			return new AgentProcess(child, options.timers, url, exited);
		} catch (error) {
			child.kill('SIGKILL');
			throw error;
		} finally {
			// The agent read the token at startup: the file need not outlive that.
			rmSync(tokenFile, { force: true });
		}
	}

	get pid(): number | undefined {
		return this.child.pid;
	}

	/** SIGTERM, then SIGKILL if the agent has not exited within the stop timeout. Idempotent. */
	stop(): Promise<void> {
		this.stopping ??= (async () => {
			if (this.child.exitCode === null && this.child.signalCode === null) {
				this.child.kill('SIGTERM');
				const timer = this.timers.timeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
				await this.exited;
				timer.dispose();
			}
			this.dispose();
		})();
		return this.stopping;
	}

	override dispose(): void {
		if (this.child.exitCode === null && this.child.signalCode === null && !this.stopping) {
			this.child.kill('SIGTERM');
		}
		super.dispose();
	}
}

/** Puts one stderr line of the agent on the log, at its level; returns it parsed (undefined for plain text). */
function logAgentLine(log: ExtensionLogger, line: string): AgentLogRecord | undefined {
	const record = parseAgentLogLine(line);
	if (!record) {
		log.info(line);
		return undefined;
	}
	log[record.level](formatAgentLogRecord(record));
	return record;
}

/** Writes the token where only this user can read it; returns the file's path. */
function writeTokenFile(storageDir: string, token: string): string {
	mkdirSync(storageDir, { recursive: true, mode: 0o700 });
	const file = join(storageDir, `agent-token-${process.pid}`);
	writeFileSync(file, token + '\n', { mode: 0o600 });
	chmodSync(file, 0o600); // mode applies only when the file is created
	return file;
}

function waitForUrl(
	firstLine: Promise<string>,
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
	{ timers, timeoutMs }: { readonly timers: Timers; readonly timeoutMs: number },
	stderrTail: readonly string[],
): Promise<string> {
	return new Promise((resolve, reject) => {
		const timer = timers.timeout(
			() => reject(new BerthError('BERTH_ERR_TIMEOUT', `the agent did not start within ${timeoutMs} ms`)),
			timeoutMs,
		);
		void firstLine.then((line) => {
			timer.dispose();
			const url = parseListeningLine(line);
			if (url !== undefined) {
				resolve(url);
			} else {
				reject(new BerthError('BERTH_ERR_PROTOCOL', `unexpected first line from the agent: ${line}`));
			}
		});
		void exited.then(({ code, signal }) => {
			timer.dispose();
			const tail = stderrTail
				.map((line) => {
					const record = parseAgentLogLine(line);
					return record ? record.message : line;
				})
				.join('; ');
			reject(
				new BerthError(
					'BERTH_ERR_LISTEN',
					`the agent exited (${signal ?? `code ${code}`}) before listening${tail ? `: ${tail}` : ''}`,
				),
			);
		});
	});
}
