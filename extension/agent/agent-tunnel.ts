import type { Event, IDisposable } from '../../protocol/lifecycle';
import type { AgentAddress, SshTunnelState } from '../../server/client/index';
import type { ConnectionStatus } from './connection';

/**
 * The way to an agent that a connection owns and ends with it: an SshAgentTunnel (a local port
 * forwarded through ssh to the agent's loopback port on the host). Its address replaces the
 * target's URL, and its token is the agent's.
 */
export interface AgentTunnel extends IDisposable {
	readonly address: AgentAddress;
	readonly token: string;
	readonly state: SshTunnelState;
	readonly onDidChangeState: Event<SshTunnelState>;
	/** While reconnecting: the next attempt starts now; false when there is none to hurry. */
	reconnectNow(): boolean;
}

/** `tunnel`, ending `owned` too when it ends (its askpass ticket, its listener's declaration). */
export function tunnelOwning(
	tunnel: AgentTunnel,
	...owned: readonly (IDisposable | undefined)[]
): AgentTunnel {
	return {
		get address() {
			return tunnel.address;
		},
		get token() {
			return tunnel.token;
		},
		get state() {
			return tunnel.state;
		},
		onDidChangeState: tunnel.onDidChangeState,
		reconnectNow: () => tunnel.reconnectNow(),
		dispose: () => {
			tunnel.dispose();
			for (const item of owned) {
				item?.dispose();
			}
		},
	};
}

/**
 * A connection's status when it goes through a tunnel: while the tunnel is down its state is the
 * connection's (the link cannot come back before it), and a tunnel that failed for good (no Node.js
 * on the host any more, a refused login) fails the connection with its words, whatever the link
 * says. A tunnel that is up leaves the link's status as it is.
 */
export function statusWithTunnel(
	link: ConnectionStatus,
	tunnel: SshTunnelState | undefined,
): ConnectionStatus {
	switch (tunnel?.type) {
		case undefined:
		case 'connected':
			return link;
		case 'reconnecting':
			return {
				type: 'reconnecting',
				attempt: tunnel.attempt,
				delayMs: tunnel.delayMs,
				...(tunnel.lastError !== undefined ? { lastError: tunnel.lastError } : {}),
			};
		case 'failed':
			return { type: 'failed', message: tunnel.error.message };
	}
}
