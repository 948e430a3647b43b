/**
 * The words of Connect to Host via SSH... and Stop Agent on Host (pure, unit-tested): progress,
 * failures and what can help with each, and the agent's id for a host.
 */

import { BerthError, errorMessage } from '../../protocol/errors';
import type { SshProgress } from '../../server/client/index';

/** The prefix of an ssh host's agent id: `ssh://alice@devbox:2222`. */
const SSH_AGENT_ID_PREFIX = 'ssh://';

/** The agent id of a host, from the target as formatSshTarget writes it. */
export function sshAgentId(host: string): string {
	return SSH_AGENT_ID_PREFIX + host;
}

/** The host of an ssh agent id; undefined for any other id. */
export function sshHostOfAgentId(agentId: string): string | undefined {
	return agentId.startsWith(SSH_AGENT_ID_PREFIX) ? agentId.slice(SSH_AGENT_ID_PREFIX.length) : undefined;
}

/** One progress step in words, for the notification's message. */
export function describeSshProgress(progress: SshProgress, host: string): string {
	switch (progress.step) {
		case 'connecting':
			return `connecting to ${host} with ssh…`;
		case 'node-found':
			return `checking Node.js on ${host}: ${progress.version}`;
		case 'installing':
			return `installing the agent on ${host} (${(progress.bytes / 1024 / 1024).toFixed(1)} MiB)…`;
		case 'starting':
			return `starting the agent on ${host}…`;
		case 'ready':
			return progress.reused ? `the agent already runs on ${host}` : `started the agent on ${host}`;
	}
}

/** What can help after a failure: the node path setting, trying again, or nothing here. */
export type SshFailureAction = 'nodePath' | 'retry' | 'none';

/** A failure in words, with what can help. */
export interface SshFailureText {
	readonly message: string;
	readonly action: SshFailureAction;
}

/**
 * A failure to connect to (or stop the agent on) `host`. No Node.js on the host: the library's
 * message says how to fix it (it names the berth.ssh.nodePath setting), and retrying would only
 * fail again, so the action is the setting. An ssh failure may pass (a network, a cancelled prompt).
 */
export function describeSshFailure(error: unknown, host: string, stopping = false): SshFailureText {
	const what = stopping ? `Cannot stop the agent on ${host}` : `Cannot connect to ${host} over ssh`;
	const code = error instanceof BerthError ? error.code : undefined;
	switch (code) {
		case 'BERTH_ERR_NO_NODE':
			return { message: `${what}: ${errorMessage(error)}.`, action: 'nodePath' };
		case 'BERTH_ERR_USAGE':
			return { message: `${what}: ${errorMessage(error)}.`, action: 'none' };
		default:
			return { message: `${what}: ${errorMessage(error)}.`, action: 'retry' };
	}
}

/** What Stop Agent on Host says when it is done. */
export function describeSshStopped(host: string, pid: number | undefined): string {
	return pid !== undefined
		? `Stopped the Berth agent (pid ${pid}) on ${host}; its token is removed there and here.`
		: `No Berth agent of this version was running on ${host}; its token is removed there and here.`;
}
