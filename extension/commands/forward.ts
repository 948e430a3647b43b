import * as vscode from 'vscode';
import { errorMessage } from '../../protocol/errors';
import type { ForwardInfo } from '../../protocol/rpc';
import { parseRowContext, type ForwardRef } from '../../protocol/webview';
import { openInBrowser, showError } from '../notify';
import {
	connectHostFor,
	formatHostPort,
	parseForwardInput,
	type ForwardTarget,
} from '../ports/forward-input';
import type { Services } from '../services';

/** Shows the Remote Port Forwarding panel (the view's generated focus command). */
export async function showPanel(preserveFocus = false): Promise<void> {
	await vscode.commands.executeCommand('berth.portsView.focus', { preserveFocus });
}

/** The agent to forward through: the only connected one, or the user's pick. */
async function pickConnectedAgent(services: Services, arg: unknown): Promise<string | undefined> {
	const row = parseRowContext(arg);
	if (row) {
		return row.berthAgentId;
	}
	const connected = services.connections.all().filter((c) => c.status.type !== 'failed');
	if (connected.length === 0) {
		const choice = await vscode.window.showInformationMessage(
			'Berth: forwarding needs an agent. Turn on tunnel access to forward through this machine, or connect to a remote agent.',
			'Connect to Agent…',
			'Turn On Tunnel Access',
		);
		if (choice === 'Connect to Agent…') {
			await vscode.commands.executeCommand('berth.connect');
		} else if (choice === 'Turn On Tunnel Access') {
			await vscode.commands.executeCommand('berth.startAgent');
		}
		return undefined;
	}
	if (connected.length === 1) {
		return connected[0]!.target.id;
	}
	const item = await vscode.window.showQuickPick(
		connected.map((c) => ({
			label: c.target.isLocal ? 'This machine' : c.target.id,
			description: c.target.isLocal ? c.target.url : undefined,
			id: c.target.id,
		})),
		{ placeHolder: 'Forward a port of which agent?' },
	);
	return item?.id;
}

/** `Berth: Forward a Port...`: `3000` or `host:port`, as seen from the agent. */
export async function forwardPort(services: Services, arg?: unknown): Promise<void> {
	const row = parseRowContext(arg);
	if (row?.webviewSection === 'detected' && row.berthHost !== undefined && row.berthPort !== undefined) {
		await forwardTarget(services, row.berthAgentId, {
			host: connectHostFor(row.berthHost),
			port: row.berthPort,
		});
		return;
	}
	const agentId = await pickConnectedAgent(services, arg);
	if (!agentId) {
		return;
	}
	const input = await vscode.window.showInputBox({
		title: 'Forward a Port',
		prompt: 'Port number or address (as the agent sees it)',
		placeHolder: '3000 or host:port',
		validateInput: (value) => {
			const parsed = parseForwardInput(value);
			return typeof parsed === 'string' ? parsed : undefined;
		},
	});
	const target = input === undefined ? undefined : parseForwardInput(input);
	if (target === undefined || typeof target === 'string') {
		return;
	}
	await forwardTarget(services, agentId, target);
}

/** Forwards and shows the panel; failures offer Retry. */
export async function forwardTarget(
	services: Services,
	agentId: string,
	target: ForwardTarget,
): Promise<void> {
	try {
		await services.forwarding.forward(agentId, target, { origin: 'user' });
		await showPanel(true);
	} catch (error) {
		void showError(
			`Berth: could not forward ${formatHostPort(target.host, target.port)}: ${errorMessage(error)}`,
			() => forwardTarget(services, agentId, target),
		);
	}
}

/** The forward a command is about: from a row's context menu, a webview message, or a pick. */
export async function pickForward(
	services: Services,
	arg: unknown,
	placeHolder: string,
): Promise<{ agentId: string; info: ForwardInfo } | undefined> {
	const ref = toForwardRef(arg);
	if (ref) {
		const info = services.forwarding.find(ref.agentId, ref.forwardId);
		return info ? { agentId: ref.agentId, info } : undefined;
	}
	const all = services.connections
		.all()
		.flatMap((c) =>
			c.forwards.filter((f) => f.state !== 'closed').map((info) => ({ agentId: c.target.id, info })),
		);
	if (all.length <= 1) {
		return all[0];
	}
	const item = await vscode.window.showQuickPick(
		all.map((entry) => ({
			label:
				`${services.forwarding.labelFor(entry.agentId, entry.info.targetHost, entry.info.targetPort) ?? ''} ${formatHostPort(entry.info.targetHost, entry.info.targetPort)}`.trim(),
			description: `→ ${formatHostPort(entry.info.bindHost, entry.info.bindPort)}`,
			detail: entry.agentId === 'local' ? 'This machine' : entry.agentId,
			entry,
		})),
		{ placeHolder },
	);
	return item?.entry;
}

function toForwardRef(arg: unknown): ForwardRef | undefined {
	const row = parseRowContext(arg);
	if (row?.berthForwardId) {
		return { agentId: row.berthAgentId, forwardId: row.berthForwardId };
	}
	const value = arg as Partial<ForwardRef> | undefined;
	return typeof value?.agentId === 'string' && typeof value.forwardId === 'string'
		? { agentId: value.agentId, forwardId: value.forwardId }
		: undefined;
}

/** Set Port Label: for a forward, or a detected port (host and port from the row). */
export async function setPortLabel(services: Services, arg: unknown): Promise<void> {
	const row = parseRowContext(arg);
	let target: { agentId: string; host: string; port: number } | undefined;
	if (row?.berthHost !== undefined && row.berthPort !== undefined && !row.berthForwardId) {
		target = { agentId: row.berthAgentId, host: row.berthHost, port: row.berthPort };
	} else if (isPortRef(arg)) {
		target = arg;
	} else {
		const picked = await pickForward(services, arg, 'Label which port?');
		target = picked && {
			agentId: picked.agentId,
			host: picked.info.targetHost,
			port: picked.info.targetPort,
		};
	}
	if (!target) {
		return;
	}
	const current = services.forwarding.labelFor(target.agentId, target.host, target.port);
	const label = await vscode.window.showInputBox({
		title: `Set Port Label: ${formatHostPort(target.host, target.port)}`,
		prompt: 'A name for this port (empty removes the label)',
		value: current ?? '',
	});
	if (label !== undefined) {
		services.forwarding.setLabel(target.agentId, target.host, target.port, label);
	}
}

function isPortRef(arg: unknown): arg is { agentId: string; host: string; port: number } {
	const value = arg as { agentId?: unknown; host?: unknown; port?: unknown } | undefined;
	return (
		typeof value?.agentId === 'string' && typeof value.host === 'string' && typeof value.port === 'number'
	);
}

/** Registers the forwarding commands, Show Remote Port Forwarding and Show Log. */
export function registerForwardCommands(services: Services): vscode.Disposable[] {
	const { forwarding } = services;
	return [
		vscode.commands.registerCommand('berth.forwardPort', (arg: unknown) => forwardPort(services, arg)),
		vscode.commands.registerCommand('berth.stopForwarding', async (arg: unknown) => {
			const picked = await pickForward(services, arg, 'Stop forwarding which port?');
			if (picked) {
				await forwarding.stop(picked.agentId, picked.info.id);
			}
		}),
		vscode.commands.registerCommand('berth.openInBrowser', async (arg: unknown) => {
			const picked = await pickForward(services, arg, 'Open which port in the browser?');
			if (picked) {
				await openInBrowser(forwarding.localUrl(picked.agentId, picked.info));
			}
		}),
		vscode.commands.registerCommand('berth.copyLocalAddress', async (arg: unknown) => {
			const picked = await pickForward(services, arg, 'Copy the local address of which port?');
			if (picked) {
				const address = formatHostPort(picked.info.bindHost, picked.info.bindPort);
				await vscode.env.clipboard.writeText(address);
				void vscode.window.showInformationMessage(`Berth: copied ${address}`);
			}
		}),
		vscode.commands.registerCommand('berth.setPortLabel', (arg: unknown) => setPortLabel(services, arg)),
		vscode.commands.registerCommand('berth.showPanel', () => showPanel()),
		vscode.commands.registerCommand('berth.showLog', () => services.channel.show(true)),
	];
}
