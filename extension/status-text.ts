/**
 * What the status bar says, from the state: pure, so every state's words are unit-tested.
 * extension/status-bar.ts puts the result on the items (and adds the tooltip's command links).
 */

import type { LocalAgentState } from './agent/local-agent';
import type { AgentConnectionState } from './ports/ports-model';

/** What one status bar item shows. */
export interface StatusText {
	/** With a leading codicon, e.g. `$(radio-tower) Berth: 1 client · 2 forwards`. */
	readonly text: string;
	/** Markdown lines for the tooltip (without actions). */
	readonly tooltip: readonly string[];
	readonly severity: 'normal' | 'warning' | 'error';
	/** Screen-reader text. */
	readonly accessibilityLabel: string;
}

/** What the tunnel access item depends on. */
export interface TunnelStatusInput {
	readonly agent: LocalAgentState;
	readonly trusted: boolean;
	/** Forwards on every connected agent. */
	readonly forwards: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The tunnel access item. */
export function describeTunnelStatus(input: TunnelStatusInput): StatusText {
	const { agent } = input;
	const forwards = plural(input.forwards, 'forward');
	switch (agent.type) {
		case 'off':
			if (!input.trusted) {
				return {
					text: '$(workspace-untrusted) Berth: restricted',
					tooltip: [
						'**Tunnel access is off.** This workspace is not trusted, so Berth does not start its agent here ' +
							'(Restricted Mode). Trust the workspace to turn tunnel access on.',
					],
					severity: 'warning',
					accessibilityLabel: 'Berth tunnel access unavailable in Restricted Mode',
				};
			}
			return {
				text: `$(circle-slash) Berth: off${input.forwards > 0 ? ` · ${forwards}` : ''}`,
				tooltip: ['**Tunnel access is off.** Click to start the Berth agent on this machine.'],
				severity: 'normal',
				accessibilityLabel: 'Berth tunnel access off',
			};
		case 'starting':
			return {
				text: '$(loading~spin) Berth: starting',
				tooltip: ['Starting the Berth agent…'],
				severity: 'normal',
				accessibilityLabel: 'Berth tunnel access starting',
			};
		case 'on': {
			const clients = plural(agent.clients, 'client');
			return {
				text: `$(radio-tower) Berth: ${clients} · ${forwards}`,
				tooltip: [`**Tunnel access is on** at \`${agent.url}\``, `${clients} connected, ${forwards}.`],
				severity: 'normal',
				accessibilityLabel: `Berth tunnel access on, ${clients}, ${forwards}`,
			};
		}
		case 'stopping':
			return {
				text: '$(loading~spin) Berth: stopping',
				tooltip: ['Stopping the Berth agent…'],
				severity: 'normal',
				accessibilityLabel: 'Berth tunnel access stopping',
			};
		case 'error':
			return {
				text: '$(error) Berth: error',
				tooltip: [`**The Berth agent failed:** ${agent.message}`, 'Click to try again.'],
				severity: 'error',
				accessibilityLabel: `Berth agent error: ${agent.message}`,
			};
	}
}

/** A remote agent for the connections item. */
export interface RemoteAgentStatus {
	readonly id: string;
	readonly state: AgentConnectionState;
}

/** The remote connections item; undefined hides it (no remote agent). */
export function describeRemoteAgents(agents: readonly RemoteAgentStatus[]): StatusText | undefined {
	if (agents.length === 0) {
		return undefined;
	}
	const count = (type: AgentConnectionState['type']) => agents.filter((a) => a.state.type === type).length;
	const failed = count('failed');
	const reconnecting = count('reconnecting');
	const connecting = count('connecting');
	const lines = agents.map((a) => `- \`${a.id}\`: ${a.state.type}`);
	if (failed > 0) {
		return {
			text: `$(debug-disconnect) Berth: ${plural(failed, 'agent')} disconnected`,
			tooltip: ['**Berth agents**', ...lines],
			severity: 'error',
			accessibilityLabel: `${plural(failed, 'Berth agent')} disconnected`,
		};
	}
	if (reconnecting > 0 || connecting > 0) {
		return {
			text: `$(sync~spin) Berth: ${reconnecting > 0 ? 'reconnecting' : 'connecting'}`,
			tooltip: ['**Berth agents**', ...lines],
			severity: 'warning',
			accessibilityLabel: `Berth ${reconnecting > 0 ? 'reconnecting' : 'connecting'} to an agent`,
		};
	}
	return {
		text: `$(plug) Berth: ${plural(agents.length, 'agent')}`,
		tooltip: ['**Berth agents**', ...lines],
		severity: 'normal',
		accessibilityLabel: `Berth connected to ${plural(agents.length, 'agent')}`,
	};
}
