import { hostname } from 'node:os';
import type { ServerInfo } from '../../protocol/rpc';
import type { AgentRpc } from './management-sessions';

export interface AgentIdentity {
	readonly version: string;
	readonly commit: string;
	readonly startedAt: number;
	readonly reconnectionGraceMs: number;
}

/** The agent's answer to `serverInfo`. */
export function describeAgent(identity: AgentIdentity, now = Date.now()): ServerInfo {
	return {
		version: identity.version,
		commit: identity.commit,
		host: hostname(),
		platform: process.platform,
		uptime: Math.floor((now - identity.startedAt) / 1000),
		reconnectionGraceMs: identity.reconnectionGraceMs,
	};
}

/** Registers the methods every Management session serves. */
export function serveAgentMethods(rpc: AgentRpc, identity: AgentIdentity): void {
	rpc.handle('ping', () => ({ receivedAt: Date.now() }));
	rpc.handle('serverInfo', () => describeAgent(identity));
}
