import { mkdirSync } from 'node:fs';
import { errorMessage } from '../../../protocol/errors';
import {
	formatSshHostLine,
	MAX_SSH_HOST_LINE_BYTES,
	parseToSshHost,
	type FromSshHost,
} from '../../../protocol/ssh-bootstrap';
import type { Timers } from '../../../protocol/timers';
import { createLineSplitter } from '../../client/ssh/line-splitter';
import { createNodeTimers } from '../../shared/transport/node-timers';
import { BERTH_COMMIT } from '../../shared/version';
import { ExitCode } from '../exit-codes';
import {
	readAgentToken,
	removeAgentFiles,
	writeAgentState,
	writeAgentToken,
	type AgentFiles,
} from './agent-state';
import { withHostLock } from './host-lock';
import { findRunningAgent } from './running-agent';
import { startDetachedAgent } from './start-agent';
import { stopRunningAgent } from './stop-running-agent';

/**
 * `berth ssh-host DIR` (not in the help: `berth ssh` runs it on the host, through the bootstrap):
 * reads one request on stdin (`ensure {token}` or `stop`, protocol/ssh-bootstrap.ts), answers on
 * stdout, and exits. Only this build's agent (`*-<commit>` in DIR) is looked at, started or
 * stopped: agents of other builds keep running for their own clients.
 */
export async function runSshHostCommand(argv: string[]): Promise<number> {
	const dir = argv[0];
	if (argv.length !== 1 || dir === undefined || dir === '') {
		say({ type: 'error', message: 'berth ssh-host takes one argument, the folder of the agent' });
		return ExitCode.Usage;
	}
	const request = parseToSshHost(await readRequestLine());
	if (!request) {
		say({
			type: 'error',
			message: 'the request is not one berth ssh-host knows (a client of another build?)',
		});
		return ExitCode.Usage;
	}
	const files: AgentFiles = { dir, commit: BERTH_COMMIT };
	const timers = createNodeTimers();
	try {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		const reply = await withHostLock(files, timers, () =>
			request.type === 'ensure' ? ensureAgent(files, request.token, timers) : stopAgent(files, timers),
		);
		say(reply);
		return ExitCode.Ok;
	} catch (error) {
		say({ type: 'error', message: errorMessage(error) });
		return ExitCode.Failure;
	}
}

/**
 * The build's agent, running: the one that runs already (with its token when it is not the one
 * the client sent), else a new one with the client's token. An agent that runs but whose token
 * file is gone cannot be shared, so it is replaced.
 */
async function ensureAgent(files: AgentFiles, token: string, timers: Timers): Promise<FromSshHost> {
	const running = await findRunningAgent(files);
	if (running) {
		const current = readAgentToken(files);
		if (current !== undefined) {
			const reply = { type: 'agent', port: running.port, pid: running.pid, reused: true } as const;
			return current === token ? reply : { ...reply, token: current };
		}
		await stopRunningAgent(running, timers);
	}
	writeAgentToken(files, token);
	const started = await startDetachedAgent(files, timers);
	writeAgentState(files, started);
	return { type: 'agent', port: started.port, pid: started.pid, reused: false };
}

/** Ends the build's agent if it runs, and removes its token and state files either way. */
async function stopAgent(files: AgentFiles, timers: Timers): Promise<FromSshHost> {
	const running = await findRunningAgent(files);
	if (running) {
		await stopRunningAgent(running, timers);
	}
	removeAgentFiles(files);
	return running ? { type: 'stopped', pid: running.pid } : { type: 'stopped' };
}

function say(message: FromSshHost): void {
	process.stdout.write(formatSshHostLine(message) + '\n');
}

/** The first line on stdin ('' when it ends first); stdin is let go of afterwards. */
function readRequestLine(): Promise<string> {
	return new Promise((resolve) => {
		const done = (line: string): void => {
			process.stdin.off('data', onData);
			process.stdin.off('end', onEnd);
			process.stdin.pause();
			resolve(line);
		};
		const onData = createLineSplitter(MAX_SSH_HOST_LINE_BYTES, done);
		const onEnd = (): void => done('');
		process.stdin.on('data', onData);
		process.stdin.on('end', onEnd);
	});
}
