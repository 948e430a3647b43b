import * as vscode from 'vscode';
import type { ForwardInfo } from '../../protocol/rpc';
import { parseRowContext } from '../../protocol/webview';
import { LOCAL_AGENT_ID } from '../agent/connection';
import { formatHostPort } from '../ports/forward-input';
import type { Services } from '../services';
import { connectToAgent } from './connect';
import { turnOnTunnelAccess } from './tunnel';

/** A forward and the agent it goes through. */
export interface PickedForward {
	readonly agentId: string;
	readonly info: ForwardInfo;
}

/** How the pickers name an agent: "This machine", or its URL. */
export function agentName(agentId: string): string {
	return agentId === LOCAL_AGENT_ID ? 'This machine' : agentId;
}

/**
 * The agent to forward through: the one given (an id, or a row), the only connected one, or the
 * user's pick. With no
 * agent at all it offers the two ways to get one and, once one is there, goes on with it (so
 * Forward a Port continues to its port prompt after Turn On Tunnel Access).
 */
export async function pickConnectedAgent(
	services: Services,
	arg: unknown,
	placeHolder: string,
	accept: (peer: 'berth' | 'vscode') => boolean = () => true,
): Promise<string | undefined> {
	if (typeof arg === 'string') {
		return arg;
	}
	const row = parseRowContext(arg);
	if (row) {
		return row.berthAgentId;
	}
	const connected = services.connections
		.all()
		.filter((c) => c.status.type !== 'failed' && accept(c.target.peer));
	if (connected.length === 0) {
		const turnOn = 'Turn On Tunnel Access';
		const connect = 'Connect to Agent...';
		const choice = await vscode.window.showInformationMessage(
			'Forwarding needs an agent: turn on tunnel access to forward through this machine, or connect to a remote agent.',
			turnOn,
			connect,
		);
		if (choice === turnOn) {
			return (await turnOnTunnelAccess(services)) ? LOCAL_AGENT_ID : undefined;
		}
		return choice === connect ? connectToAgent(services) : undefined;
	}
	if (connected.length === 1) {
		return connected[0]!.target.id;
	}
	const item = await vscode.window.showQuickPick(
		connected.map((c) => ({
			label: agentName(c.target.id),
			description: c.target.isLocal
				? c.target.url
				: c.target.peer === 'vscode'
					? 'VS Code server'
					: undefined,
			id: c.target.id,
		})),
		{ placeHolder },
	);
	return item?.id;
}

/**
 * The forward a command is about: from a row (its context menu, a panel button, a keybinding), a
 * `{agentId, forwardId}` reference, or the user's pick among the open ones (`local` only: for
 * actions on the local address).
 */
export async function pickForward(
	services: Services,
	arg: unknown,
	placeHolder: string,
	only?: 'local',
): Promise<PickedForward | undefined> {
	const ref = toForwardRef(arg);
	if (ref) {
		const info = services.forwarding.find(ref.agentId, ref.forwardId);
		return info && (!only || info.direction === only) ? { agentId: ref.agentId, info } : undefined;
	}
	const all = services.connections
		.all()
		.flatMap((c) => c.forwards.map((info) => ({ agentId: c.target.id, info })))
		.filter(({ info }) => info.state !== 'closed' && (!only || info.direction === only));
	if (all.length <= 1) {
		if (all.length === 0) {
			void vscode.window.showInformationMessage('No port is forwarded.');
		}
		return all[0];
	}
	const item = await vscode.window.showQuickPick(
		all.map((entry) => ({ ...describeForwardItem(services, entry), entry })),
		{ placeHolder },
	);
	return item?.entry;
}

/** A forward as the panel writes it: "Docs server (3000)", with where it listens and the agent. */
function describeForwardItem(services: Services, { agentId, info }: PickedForward): vscode.QuickPickItem {
	if (info.direction === 'remote') {
		return {
			label: `Agent port ${info.bindPort}`,
			description: `→ ${formatHostPort(info.targetHost, info.targetPort)} on this machine`,
			detail: agentName(agentId),
		};
	}
	const label = services.forwarding.labelFor(agentId, info.targetHost, info.targetPort);
	const port = formatHostPort(info.targetHost, info.targetPort);
	return {
		label: label ? `${label} (${port})` : port,
		description: `→ ${formatHostPort(info.bindHost, info.bindPort)}`,
		detail: agentName(agentId),
	};
}

function toForwardRef(arg: unknown): { agentId: string; forwardId: string } | undefined {
	const row = parseRowContext(arg);
	if (row?.berthForwardId) {
		return { agentId: row.berthAgentId, forwardId: row.berthForwardId };
	}
	const value = arg as { agentId?: unknown; forwardId?: unknown } | undefined;
	return typeof value?.agentId === 'string' && typeof value.forwardId === 'string'
		? { agentId: value.agentId, forwardId: value.forwardId }
		: undefined;
}
