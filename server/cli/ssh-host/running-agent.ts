import { readFileSync } from 'node:fs';
import { parseAgentUrl } from '../../client/agent-url';
import { fetchAgentCommit } from '../../client/fetch-commit';
import { readAgentState, type AgentFiles, type AgentState } from './agent-state';

/** How long the agent has to answer GET /version: it is on this host's loopback. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether process `pid` exists, is ours (EPERM: another user's, so not our agent) and has not
 * exited: a zombie that nobody reaped yet (where /proc says so) counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	try {
		// The state is the field after the command's closing parenthesis (which may hold spaces).
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return true; // no /proc (macOS, BSD): the signal said enough
	}
}

/**
 * The build's agent as its state file records it, when it still runs: its process is alive and
 * its port answers GET /version with the build's commit (not another program that got the port
 * or the process id since).
 */
export async function findRunningAgent(files: AgentFiles): Promise<AgentState | undefined> {
	const state = readAgentState(files);
	if (state === undefined || !isProcessAlive(state.pid)) {
		return undefined;
	}
	try {
		const commit = await fetchAgentCommit(parseAgentUrl(`ws://127.0.0.1:${state.port}`), PROBE_TIMEOUT_MS);
		return commit === files.commit ? state : undefined;
	} catch {
		return undefined;
	}
}
