/**
 * What the extension says about a dropped connection to an agent: while it is being reconnected
 * (held by the agent, or lost), once it is back (resumed, or replaced by a new session), and the
 * one notification of a session that could not be resumed. A drop that resumed is not a failure,
 * and nothing here says it is one. Pure, so every sentence is unit-tested; the panel
 * (row-problem.ts), the status bar (status-text.ts) and the log (connection-registry.ts) use it.
 */

import type { OutageSummary, ReconnectingStatus } from './link-outages';
import { formatDuration } from './tunnel-clients';

const SECOND_MS = 1_000;

/** "attempt 3 in 5 s", or "attempt 1" when it is being made now. */
function nextAttempt(state: Pick<ReconnectingStatus, 'attempt' | 'delayMs'>): string {
	const seconds = Math.round(state.delayMs / SECOND_MS);
	return seconds > 0 ? `attempt ${state.attempt} in ${seconds} s` : `attempt ${state.attempt}`;
}

/**
 * An agent's line while its link is down: how long, whether its connections wait or were lost,
 * the next attempt and why the last failed. "Reconnecting for 12 s; connections are held
 * (attempt 3 in 5 s): read ECONNRESET".
 */
export function describeReconnecting(state: ReconnectingStatus): string {
	const reason = state.lastError ? `: ${state.lastError}` : '';
	if (state.resuming === undefined) {
		return `Connection lost; reconnecting in ${Math.round(state.delayMs / SECOND_MS)} s (attempt ${state.attempt})${reason}`;
	}
	// Not "for 0 s": the first second of a drop is said without a count.
	const since =
		state.outageMs !== undefined && state.outageMs >= SECOND_MS
			? ` for ${formatDuration(state.outageMs)}`
			: '';
	const connections = state.resuming ? 'connections are held' : 'open connections were lost';
	return `Reconnecting${since}; ${connections} (${nextAttempt(state)})${reason}`;
}

/**
 * The same for the status bar's tooltip and the log, after the agent's name: "reconnecting
 * (connections held), trying again in 5 s (attempt 3)".
 */
export function describeReconnectingBriefly(state: ReconnectingStatus): string {
	const seconds = Math.round(state.delayMs / SECOND_MS);
	const when = seconds > 0 ? `in ${seconds} s` : 'now';
	const what =
		state.resuming === undefined
			? 'connection lost'
			: `reconnecting (${state.resuming ? 'connections held' : 'open connections were lost'})`;
	return `${what}, trying again ${when} (attempt ${state.attempt})`;
}

/**
 * How the last drop ended, for a connected agent's line: "resumed after 3 s, no connection lost
 * (2 drops)", or "reconnected after 40 s on a new session; connections were lost".
 */
export function describePastOutages(summary: OutageSummary): string {
	const ms = summary.last.durationMs;
	const after = ms < SECOND_MS ? 'in under a second' : `after ${formatDuration(ms)}`;
	const drops = summary.drops > 1 ? ` (${summary.drops} drops)` : '';
	return summary.last.end === 'resumed'
		? `resumed ${after}, no connection lost${drops}`
		: `reconnected ${after} on a new session; connections were lost${drops}`;
}

/**
 * The one notification of a drop the agent's session did not survive, with the reason its
 * connections were reset with ("the agent restarted; connections were lost"). `agent` names it
 * as other messages do (`the agent at ws://vm:8765`, `this machine's agent`).
 */
export function describeLostSession(agent: string, reason: string): string {
	return `Reconnected to ${agent}, but the session could not be resumed: ${reason}.`;
}
