import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../../protocol/errors';
import { parseListeningLine } from '../../../protocol/listening-line';
import type { Timers } from '../../../protocol/timers';
import {
	agentBundleName,
	agentLogName,
	agentTokenName,
	type AgentFiles,
	type AgentState,
} from './agent-state';

/** How long a new agent has to print its listening line. */
const START_TIMEOUT_MS = 20_000;
const START_POLL_MS = 50;
/** Lines of the agent's log quoted when it did not start. */
const LOG_TAIL_LINES = 5;

/**
 * Starts the build's agent on 127.0.0.1 on a free port, detached from the ssh session (its own
 * session, stdin closed, stdout and stderr to agent-<commit>.log), so that it outlives the
 * connection that started it. Its token comes from token-<commit> (--connection-token-file):
 * never from its command line. Resolves once its listening line is in the log.
 * @throws BerthError BERTH_ERR_SSH when it exits or stays silent (with the log's last lines).
 */
export async function startDetachedAgent(files: AgentFiles, timers: Timers): Promise<AgentState> {
	const logPath = join(files.dir, agentLogName(files.commit));
	const log = openSync(logPath, 'w', 0o600);
	const child = spawn(
		process.execPath,
		[
			join(files.dir, agentBundleName(files.commit)),
			'server',
			'--host',
			'127.0.0.1',
			'--port',
			'0',
			'--connection-token-file',
			join(files.dir, agentTokenName(files.commit)),
		],
		{ detached: true, stdio: ['ignore', log, log], cwd: files.dir },
	);
	closeSync(log);
	child.unref();
	return waitForListening(child, logPath, timers);
}

/** The agent's state once its log has the listening line; it is killed if it stays silent. */
async function waitForListening(child: ChildProcess, logPath: string, timers: Timers): Promise<AgentState> {
	let exit: string | undefined;
	child.on('exit', (code, signal) => (exit = signal ?? `status ${code}`));
	child.on('error', (error) => (exit = error.message));
	const deadline = timers.now() + START_TIMEOUT_MS;
	for (;;) {
		const text = readFileSync(logPath, 'utf8');
		const url = text
			.split('\n')
			.map(parseListeningLine)
			.find((u) => u !== undefined);
		if (url !== undefined && child.pid !== undefined) {
			return { pid: child.pid, port: Number(new URL(url).port), started: new Date().toISOString() };
		}
		if (exit !== undefined || timers.now() > deadline) {
			if (exit === undefined) {
				child.kill('SIGKILL');
			}
			const tail = text.trim().split('\n').slice(-LOG_TAIL_LINES).join(' / ');
			throw new BerthError(
				'BERTH_ERR_SSH',
				`the agent did not start (${exit ?? `no listening line within ${START_TIMEOUT_MS / 1000} s`})` +
					(tail ? `: ${tail}` : '') +
					`; its log is ${logPath}`,
			);
		}
		await new Promise<void>((resolve) => timers.timeout(resolve, START_POLL_MS));
	}
}
