/**
 * The panel's sentences about agents and forwards: how a connection stands, and what is wrong with
 * a forward, in the user's words with the agent's own reason. Pure, so it is unit-tested.
 */

import type { ForwardInfo } from '../../protocol/rpc';
import type { RowProblem } from '../../protocol/webview';
import { describePastOutages, describeReconnecting } from '../agent/outage-text';
import { describeTokenProblem } from '../error-text';
import type { AgentConnectionState, AgentInput } from './ports-model';

/** The agent in a sentence: "this machine", the host name it reported, or its address. */
export function agentName(agent: Pick<AgentInput, 'isLocal' | 'url' | 'state'>): string {
	if (agent.isLocal) {
		return 'this machine';
	}
	return (agent.state.type === 'connected' && agent.state.host) || agent.url.replace(/^wss?:\/\//, '');
}

/** A short sentence for the panel and tooltips. */
export function describeAgentState(state: AgentConnectionState, peer: 'berth' | 'vscode'): string {
	switch (state.type) {
		case 'connecting':
			return 'Connecting…';
		case 'connected':
			if (peer === 'vscode') {
				return 'Connected to a VS Code server (its identity cannot be verified)';
			}
			return (
				`Connected${state.host ? ` to ${state.host}` : ''}${state.version ? ` (Berth ${state.version})` : ''}` +
				(state.drops ? `; ${describePastOutages(state.drops)}` : '')
			);
		case 'reconnecting':
			return describeReconnecting(state);
		case 'failed':
			return state.tokenProblem ? describeTokenProblem(state.tokenProblem) : `Disconnected: ${state.message}`;
	}
}

/**
 * What is wrong with a forward, most serious first: its listener failed; its agent is away;
 * nothing listens at its target (with the agent's reason when a connection failed); or a
 * connection failed where the agent cannot say whether anything listens. A failure is not shown
 * once a listener is known to be there: the counters keep the last error even after successes.
 */
export function forwardProblem(
	agent: Pick<AgentInput, 'isLocal' | 'url' | 'state'>,
	forward: Pick<ForwardInfo, 'state' | 'error' | 'targetPort' | 'counters'>,
	listening: boolean | undefined,
): RowProblem | undefined {
	const reason = forward.counters.lastError;
	if (forward.state === 'failed') {
		return {
			kind: 'forwardFailed',
			message: `The forward stopped: ${forward.error ?? 'its listener closed'}`,
		};
	}
	const offline = offlineProblem(agent);
	if (offline) {
		return offline;
	}
	if (listening === false) {
		const message = `Nothing is listening on ${forward.targetPort} on ${agentName(agent)}`;
		return { kind: 'noListener', message: reason !== undefined ? `${message} (${reason})` : message };
	}
	if (reason !== undefined && listening === undefined) {
		return { kind: 'connectionFailed', message: `A connection failed: ${reason}` };
	}
	return undefined;
}

/**
 * The agent is away (reconnecting, or disconnected for good): what a forward's or a proxy's row
 * says. While the agent holds the session the row is `reconnecting`, not offline: its connections
 * wait and go on. A proxy row has no other problem to show: a failed connection is its client's
 * target, not the proxy (its last failure stays in the tooltip).
 */
export function offlineProblem(agent: Pick<AgentInput, 'isLocal' | 'url' | 'state'>): RowProblem | undefined {
	switch (agent.state.type) {
		case 'reconnecting':
			return agent.state.resuming
				? { kind: 'reconnecting', message: `Reconnecting to ${agentName(agent)}; connections are held` }
				: { kind: 'agentOffline', message: `Waiting for ${agentName(agent)} to reconnect` };
		case 'failed':
			return { kind: 'agentOffline', message: `Not connected to ${agentName(agent)}` };
		default:
			return undefined;
	}
}
