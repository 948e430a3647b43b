/**
 * What the extension says when a proxy port cannot start, in the user's words (see error-text.ts
 * for the rules). Pure, so every sentence is in a unit table test.
 */

import { BerthError, errorMessage } from '../protocol/errors';
import { errnoOf, type ErrorText } from './error-text';

/** The proxy that failed: its mode, the port asked for (0: any), and the agent's name. */
export interface ProxyRef {
	readonly mode: 'socks' | 'share';
	readonly port: number;
	readonly agent: string;
}

/** Starting a SOCKS proxy, or sharing this machine's network on an agent, failed. */
export function describeProxyError(error: unknown, proxy: ProxyRef): ErrorText {
	const code = error instanceof BerthError ? error.code : undefined;
	// An agent's refusal comes back over RPC: BERTH_ERR_RPC, with the agent's own code as reason.
	const agentCode = error instanceof BerthError && code === 'BERTH_ERR_RPC' ? error.reason : undefined;
	if (code === 'BERTH_ERR_CLOSED') {
		return { message: 'The connection to the agent is down. Try again once it is back.', action: 'retry' };
	}
	if (code === 'BERTH_ERR_LOOP') {
		return { message: `Berth did not start the SOCKS proxy: ${errorMessage(error)}.`, action: 'none' };
	}
	if (proxy.mode === 'share') {
		if (agentCode === 'BERTH_ERR_LISTEN') {
			return {
				message: `${proxy.agent} could not open port ${proxy.port} (${errorMessage(error)}). Choose another port, or Any Free Port.`,
				action: 'none',
			};
		}
		if (agentCode === 'BERTH_ERR_USAGE') {
			return { message: `${proxy.agent} refused to open the port: ${errorMessage(error)}`, action: 'none' };
		}
		return {
			message: `Could not share this machine's network with ${proxy.agent}: ${errorMessage(error)}`,
			action: 'retry',
		};
	}
	switch (errnoOf(error)) {
		case 'EADDRINUSE':
			return {
				message: `Port ${proxy.port} is already in use on this machine. Choose another port, or Any Free Port.`,
				action: 'none',
			};
		case 'EACCES':
			return {
				message: `Listening on port ${proxy.port} is not allowed here (ports below 1024 need administrator rights). Choose a port above 1024.`,
				action: 'none',
			};
		default:
			return { message: `Could not start the SOCKS proxy: ${errorMessage(error)}`, action: 'retry' };
	}
}
