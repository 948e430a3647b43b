/**
 * What the status bar says, from the state: pure, so every state's words are unit-tested.
 * extension/status-bar.ts puts the result on the items. Two items, two subjects: tunnel access
 * ("share this machine": who uses it) and the remote agents this window is connected to ("my
 * forwards"). Neither counts the other's things.
 */

import type { LocalAgentState } from './agent/local-agent';
import { describePastOutages, describeReconnectingBriefly } from './agent/outage-text';
import { describeTunnelReach } from './agent/tunnel-reach';
import type { AgentConnectionState } from './ports/ports-model';

/** A command link at the foot of a tooltip. */
export interface StatusAction {
	/** With a leading codicon, e.g. `$(copy) Copy URL`. */
	readonly label: string;
	/** `command:` target, arguments included (`berth.reconnect?["ws://a:1"]`). */
	readonly command: string;
}

/** What one status bar item shows. */
export interface StatusText {
	/** With a leading codicon, e.g. `$(broadcast) Berth: on · 1 client`. */
	readonly text: string;
	/** Markdown lines for the tooltip. */
	readonly tooltip: readonly string[];
	/** Command links under the tooltip's lines. */
	readonly actions: readonly StatusAction[];
	readonly severity: 'normal' | 'warning' | 'error';
	/** Screen-reader text. */
	readonly accessibilityLabel: string;
}

/** What the tunnel access item depends on. */
export interface TunnelStatusInput {
	readonly agent: LocalAgentState;
	readonly trusted: boolean;
	/** The user's own forwards through this machine's agent. */
	readonly forwards: number;
	/** This machine's name, for the `ssh -L` hint. */
	readonly machine: string;
}

/**
 * Not `$(radio-tower)`: VS Code's own forwarded-ports item uses it, right beside this one. A
 * broadcast says "this machine is shared".
 */
export const TUNNEL_ICON = '$(broadcast)';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const SHOW_LOG: StatusAction = { label: '$(output) Show Log', command: 'berth.showLog' };
const CONNECT: StatusAction = { label: '$(plug) Connect to Agent...', command: 'berth.connect' };
/** The two ways to a new token: the browser (the device flow), or an init URL from the agent's owner. */
const SIGN_IN: StatusAction = { label: '$(key) Sign In to Agent...', command: 'berth.signIn' };
const INIT_URL: StatusAction = {
	label: '$(link) Connect with Init URL...',
	command: 'berth.connectWithInitUrl',
};
const TURN_ON: StatusAction = {
	label: '$(broadcast) Turn On Tunnel Access',
	command: 'berth.turnOnTunnelAccess',
};

/** "Your forwards through this machine's agent: 2." when there are some. */
function ownForwardsLine(forwards: number): string[] {
	return forwards > 0 ? [`Your own forwards through this machine's agent: ${forwards}.`] : [];
}

/** The tunnel access item. */
export function describeTunnelStatus(input: TunnelStatusInput): StatusText {
	const { agent } = input;
	switch (agent.type) {
		case 'off':
			return input.trusted ? off(input) : restricted();
		case 'starting':
			return busy('starting', 'Turning tunnel access on…');
		case 'on':
			return on(agent, input);
		case 'stopping':
			return busy('stopping', 'Turning tunnel access off…');
		case 'error':
			return {
				text: '$(error) Berth: error',
				tooltip: [`**Tunnel access failed.** ${agent.message}`],
				actions: [{ ...TURN_ON, label: '$(refresh) Try Again' }, SHOW_LOG],
				severity: 'error',
				accessibilityLabel: `Berth tunnel access failed: ${agent.message}`,
			};
	}
}

function restricted(): StatusText {
	return {
		text: '$(workspace-untrusted) Berth: restricted',
		tooltip: [
			'**Tunnel access is off.** This workspace is not trusted, so Berth does not start its agent here ' +
				'(Restricted Mode). Trust the workspace to turn tunnel access on.',
		],
		actions: [
			{ label: '$(shield) Manage Workspace Trust', command: 'workbench.trust.manage' },
			CONNECT,
			SHOW_LOG,
		],
		severity: 'warning',
		accessibilityLabel: 'Berth tunnel access unavailable in Restricted Mode',
	};
}

function off(input: TunnelStatusInput): StatusText {
	return {
		text: '$(circle-slash) Berth: off',
		tooltip: [
			'**Tunnel access is off.** Turn it on to let other machines forward ports of this one.',
			...ownForwardsLine(input.forwards),
		],
		actions: [TURN_ON, CONNECT, SHOW_LOG],
		severity: 'normal',
		accessibilityLabel: 'Berth tunnel access off',
	};
}

function busy(what: 'starting' | 'stopping', tooltip: string): StatusText {
	return {
		text: `$(loading~spin) Berth: ${what}`,
		tooltip: [tooltip],
		actions: [SHOW_LOG],
		severity: 'normal',
		accessibilityLabel: `Berth tunnel access ${what}`,
	};
}

function on(agent: Extract<LocalAgentState, { type: 'on' }>, input: TunnelStatusInput): StatusText {
	const clients = plural(agent.clients, 'client');
	const using =
		agent.clients === 0
			? 'No other client is using it.'
			: `${clients} ${agent.clients === 1 ? 'is' : 'are'} using it: [Show Clients](command:berth.showTunnelClients).`;
	return {
		text: `${TUNNEL_ICON} Berth: on${agent.clients > 0 ? ` · ${clients}` : ''}`,
		tooltip: [
			`**Tunnel access is on** at \`${agent.url}\``,
			describeTunnelReach({ host: agent.host, port: agent.port, machine: input.machine }),
			using,
			...ownForwardsLine(input.forwards),
		],
		actions: [
			{ label: '$(copy) Copy URL', command: 'berth.copyAgentUrl' },
			{ label: '$(key) Copy Token', command: 'berth.copyAgentToken' },
			{ label: '$(person) Show Clients', command: 'berth.showTunnelClients' },
			{ label: '$(debug-stop) Turn Off', command: 'berth.turnOffTunnelAccess' },
			SHOW_LOG,
		],
		severity: 'normal',
		accessibilityLabel: `Berth tunnel access on, ${clients}`,
	};
}

/** A remote agent for the connections item. */
export interface RemoteAgentStatus {
	readonly id: string;
	readonly state: AgentConnectionState;
	/** Whom this window is signed in as there (a user token's email). */
	readonly user?: string;
	/** The user's forwards through it. */
	readonly forwards: number;
}

/** A `command:` link with arguments, as markdown tooltips take them. */
export function commandLink(command: string, ...args: unknown[]): string {
	return `${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

/** One agent's tooltip line, with who is signed in there and what can be done about it. */
function agentLine(agent: RemoteAgentStatus): string {
	const reconnect = `[Reconnect](command:${commandLink('berth.reconnect', agent.id)})`;
	const disconnect = `[Disconnect](command:${commandLink('berth.disconnect', agent.id)})`;
	const forwards = agent.forwards > 0 ? `, ${plural(agent.forwards, 'forward')}` : '';
	const name = `- \`${agent.id}\`${agent.user ? ` (signed in as ${agent.user})` : ''}`;
	switch (agent.state.type) {
		case 'connected': {
			const drops = agent.state.drops ? `, ${describePastOutages(agent.state.drops)}` : '';
			return `${name}: connected${drops}${forwards} · ${disconnect}`;
		}
		case 'connecting':
			return `${name}: connecting…`;
		case 'reconnecting':
			return `${name}: ${describeReconnectingBriefly(agent.state)}${forwards} · ${reconnect} · ${disconnect}`;
		case 'failed':
			if (agent.state.tokenProblem) {
				const signIn = `[Sign In](command:${commandLink('berth.signIn', agent.id)})`;
				const initUrl = `[Init URL](command:${commandLink('berth.connectWithInitUrl', agent.id)})`;
				const signOut = `[Sign Out](command:${commandLink('berth.signOut', agent.id)})`;
				return `${name}: token ${agent.state.tokenProblem}: sign in again${forwards} · ${signIn} · ${initUrl} · ${signOut}`;
			}
			return `${name}: disconnected${forwards} · ${reconnect} · ${disconnect}`;
	}
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
	const tooltip = ['**Berth agents**', agents.map(agentLine).join('\n')];
	const signInAgain = agents.some((a) => a.state.type === 'failed' && a.state.tokenProblem !== undefined);
	const actions: StatusAction[] = [
		...(signInAgain ? [SIGN_IN, INIT_URL] : [CONNECT]),
		{ label: '$(list-flat) Show Panel', command: 'berth.showPanel' },
		SHOW_LOG,
	];
	if (signInAgain) {
		// Not "disconnected": reconnecting cannot help, a new token can.
		return {
			text: '$(key) Berth: sign in again',
			tooltip,
			actions,
			severity: 'error',
			accessibilityLabel: 'Berth: a token was revoked or has expired; sign in again',
		};
	}
	if (failed > 0) {
		return {
			text: `$(debug-disconnect) Berth: ${plural(failed, 'agent')} disconnected`,
			tooltip,
			actions,
			severity: 'error',
			accessibilityLabel: `${plural(failed, 'Berth agent')} disconnected`,
		};
	}
	if (reconnecting > 0 || connecting > 0) {
		const what = reconnecting > 0 ? 'reconnecting' : 'connecting';
		return {
			text: `$(sync~spin) Berth: ${what}`,
			tooltip,
			actions,
			severity: 'warning',
			accessibilityLabel: `Berth ${what} to an agent`,
		};
	}
	return {
		text: `$(plug) Berth: ${plural(agents.length, 'agent')}`,
		tooltip,
		actions,
		severity: 'normal',
		accessibilityLabel: `Berth connected to ${plural(agents.length, 'agent')}`,
	};
}
