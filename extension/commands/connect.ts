import * as vscode from 'vscode';
import { errorMessage } from '../../protocol/errors';
import { parseRowContext } from '../../protocol/webview';
import { agentIdForUrl, LOCAL_AGENT_ID, type AgentTarget, type PeerKind } from '../agent/connection';
import { showError } from '../notify';
import { withAgent, withoutAgent } from '../ports/saved-state';
import type { Services } from '../services';

interface PeerItem extends vscode.QuickPickItem {
	readonly peer: PeerKind;
}

const PEER_ITEMS: readonly PeerItem[] = [
	{
		label: 'Berth agent',
		detail: 'The token never leaves this machine: each side proves it knows it, and an impostor is refused.',
		peer: 'berth',
	},
	{
		label: 'VS Code server',
		detail:
			'A real VS Code server (--peer vscode). The token is sent to it, and its identity is NOT verified.',
		peer: 'vscode',
	},
];

/** `Berth: Connect to Agent...`: URL, kind of peer, token; then connects and remembers it. */
export async function connectToAgent(services: Services): Promise<void> {
	const url = await vscode.window.showInputBox({
		title: 'Connect to Agent (1/3)',
		prompt: "The agent's URL. Never put the token in it.",
		placeHolder: 'ws://host:8765',
		ignoreFocusOut: true,
		validateInput: (value) => {
			try {
				agentIdForUrl(value.trim());
				return undefined;
			} catch (error) {
				return errorMessage(error);
			}
		},
	});
	if (!url) {
		return;
	}
	const id = agentIdForUrl(url.trim());
	const peerItem = await vscode.window.showQuickPick(PEER_ITEMS, {
		title: 'Connect to Agent (2/3)',
		placeHolder: `What runs at ${id}?`,
		ignoreFocusOut: true,
	});
	if (!peerItem) {
		return;
	}
	const saved = await services.secrets.agentToken(id);
	const token = await vscode.window.showInputBox({
		title: 'Connect to Agent (3/3)',
		prompt: saved
			? `Connection token for ${id} (leave empty to use the saved one)`
			: `Connection token for ${id} (kept in VS Code's secret storage; leave empty if the agent has none)`,
		password: true,
		ignoreFocusOut: true,
		validateInput: (value) =>
			value === '' || /^[0-9A-Za-z_-]+$/.test(value.trim())
				? undefined
				: "A token has only letters, digits, '-' and '_'",
	});
	if (token === undefined) {
		return;
	}
	const chosen = token.trim() || saved;
	if (chosen) {
		await services.secrets.storeAgentToken(id, chosen);
	}
	await connectTo(services, { id, url: id, token: chosen, peer: peerItem.peer, isLocal: false });
}

/** Connects with progress, remembers the agent, and offers Retry when it fails. */
export async function connectTo(services: Services, target: AgentTarget): Promise<boolean> {
	try {
		await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Berth: connecting to ${target.id}…` },
			() => services.connections.connect(target),
		);
		services.saved.save(withAgent(services.saved.load(), { url: target.id, peer: target.peer }));
		return true;
	} catch (error) {
		void showError(`Berth: could not connect to ${target.id}: ${errorMessage(error)}`, () =>
			connectTo(services, target),
		);
		return false;
	}
}

/** Reconnects every agent this window was connected to before the reload (tokens from SecretStorage). */
export async function restoreAgents(services: Services): Promise<void> {
	for (const agent of services.saved.load().agents) {
		const token = await services.secrets.agentToken(agent.url);
		void connectTo(services, { id: agent.url, url: agent.url, token, peer: agent.peer, isLocal: false });
	}
}

/** The agent a command is about: from a panel row, a webview message, or a pick. */
async function pickAgent(services: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
	if (typeof arg === 'string') {
		return arg;
	}
	const row = parseRowContext(arg);
	if (row) {
		return row.berthAgentId;
	}
	const remote = services.connections.all().filter((c) => !c.target.isLocal);
	if (remote.length <= 1) {
		return remote[0]?.target.id;
	}
	const item = await vscode.window.showQuickPick(
		remote.map((c) => ({ label: c.target.id, description: c.status.type, id: c.target.id })),
		{ placeHolder },
	);
	return item?.id;
}

/** Registers Connect to Agent..., Disconnect and Reconnect. */
export function registerConnectCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.connect', () => connectToAgent(services)),
		vscode.commands.registerCommand('berth.disconnect', async (arg: unknown) => {
			const agentId = await pickAgent(services, arg, 'Disconnect from which agent?');
			if (!agentId) {
				return;
			}
			if (agentId === LOCAL_AGENT_ID) {
				await vscode.commands.executeCommand('berth.stopAgent');
				return;
			}
			services.connections.disconnect(agentId);
			services.saved.save(withoutAgent(services.saved.load(), agentId));
			services.log.info(`disconnected from ${agentId}`);
		}),
		vscode.commands.registerCommand('berth.reconnect', async (arg: unknown) => {
			const agentId = await pickAgent(services, arg, 'Reconnect to which agent?');
			const connection = agentId ? services.connections.get(agentId) : undefined;
			if (agentId === LOCAL_AGENT_ID) {
				await vscode.commands.executeCommand('berth.startAgent');
			} else if (connection) {
				await connectTo(services, connection.target);
			}
		}),
	];
}
