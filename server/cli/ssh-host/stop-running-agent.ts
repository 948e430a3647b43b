import type { Timers } from '../../../protocol/timers';
import type { AgentState } from './agent-state';
import { isProcessAlive } from './running-agent';

/** How long the agent has to stop on SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;
const STOP_POLL_MS = 50;

/** Ends the agent: SIGTERM (it stops cleanly), then SIGKILL if it is still there after STOP_GRACE_MS. */
export async function stopRunningAgent(state: AgentState, timers: Timers): Promise<void> {
	signal(state.pid, 'SIGTERM');
	const deadline = timers.now() + STOP_GRACE_MS;
	while (isProcessAlive(state.pid)) {
		if (timers.now() > deadline) {
			signal(state.pid, 'SIGKILL');
			return;
		}
		await new Promise<void>((resolve) => timers.timeout(resolve, STOP_POLL_MS));
	}
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// Gone already.
	}
}
