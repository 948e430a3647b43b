import * as vscode from 'vscode';
import { parseRowContext } from '../../protocol/webview';
import { openInBrowser, previewInEditor } from '../notify';
import { formatHostPort } from '../ports/forward-input';
import type { SavedProtocol } from '../ports/saved-state';
import type { Services } from '../services';
import { showPanel } from './forward';
import { pickForward } from './pick';

/** How long "Copied …" stays in the status bar. */
const COPIED_MESSAGE_MS = 3_000;

/** A port by agent, host and port: a detected row, or a forward's target. */
interface PortRef {
	readonly agentId: string;
	readonly host: string;
	readonly port: number;
}

/** The port a label or protocol command is about: a detected row's, a `PortRef`, or a forward's target. */
async function pickPort(services: Services, arg: unknown, placeHolder: string): Promise<PortRef | undefined> {
	const row = parseRowContext(arg);
	if (row?.berthHost !== undefined && row.berthPort !== undefined && !row.berthForwardId) {
		return { agentId: row.berthAgentId, host: row.berthHost, port: row.berthPort };
	}
	const value = arg as Partial<PortRef> | undefined;
	if (
		typeof value?.agentId === 'string' &&
		typeof value.host === 'string' &&
		typeof value.port === 'number'
	) {
		return { agentId: value.agentId, host: value.host, port: value.port };
	}
	const picked = await pickForward(services, arg, placeHolder, 'local');
	return picked && { agentId: picked.agentId, host: picked.info.targetHost, port: picked.info.targetPort };
}

/** Set Port Label...: for a forward, or a detected port. */
async function setPortLabel(services: Services, arg: unknown): Promise<void> {
	const target = await pickPort(services, arg, 'Label which port?');
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

interface ProtocolItem extends vscode.QuickPickItem {
	readonly protocol: SavedProtocol;
}

/** Change Port Protocol...: http or https for Open in Browser, remembered per agent and port. */
async function changePortProtocol(services: Services, arg: unknown): Promise<void> {
	const target = await pickPort(services, arg, 'Change the protocol of which port?');
	if (!target) {
		return;
	}
	const current = services.forwarding.protocolFor(target.agentId, target.host, target.port);
	const items: ProtocolItem[] = [
		{ label: 'HTTP', description: current === 'http' ? 'current' : '', protocol: 'http' },
		{ label: 'HTTPS', description: current === 'https' ? 'current' : '', protocol: 'https' },
	];
	const item = await vscode.window.showQuickPick(items, {
		title: `Change Port Protocol: ${formatHostPort(target.host, target.port)}`,
		placeHolder: 'The protocol Open in Browser and Preview in Editor use',
	});
	if (item) {
		services.forwarding.setProtocol(target.agentId, target.host, target.port, item.protocol);
	}
}

/** Registers the actions on a forwarded port's address, Set Port Label..., Change Port Protocol..., Show Panel and Show Log. */
export function registerPortActions(services: Services): vscode.Disposable[] {
	const { forwarding } = services;
	/** The forward's address that works from where the user is (asExternalUri), for the picked forward. */
	const external = async (arg: unknown, placeHolder: string): Promise<string | undefined> => {
		const picked = await pickForward(services, arg, placeHolder, 'local');
		return picked && forwarding.externalUrl(picked.agentId, picked.info);
	};
	return [
		vscode.commands.registerCommand('berth.openInBrowser', async (arg: unknown) => {
			const url = await external(arg, 'Open which port in the browser?');
			if (url) {
				await openInBrowser(url);
			}
		}),
		vscode.commands.registerCommand('berth.previewInEditor', async (arg: unknown) => {
			const url = await external(arg, 'Preview which port in the editor?');
			if (url) {
				await previewInEditor(url);
			}
		}),
		vscode.commands.registerCommand('berth.copyLocalAddress', async (arg: unknown) => {
			const picked = await pickForward(services, arg, 'Copy the address of which port?', 'local');
			if (!picked) {
				return;
			}
			// The address that works here: host:port on this machine, or the window's forwarded URL
			// (a web or remote window maps it, as the Ports view's Forwarded Address does).
			const local = forwarding.localUrl(picked.agentId, picked.info);
			const url = await forwarding.externalUrl(picked.agentId, picked.info);
			const address = url === local ? formatHostPort(picked.info.bindHost, picked.info.bindPort) : url;
			await vscode.env.clipboard.writeText(address);
			void vscode.window.setStatusBarMessage(`Copied ${address}`, COPIED_MESSAGE_MS);
		}),
		vscode.commands.registerCommand('berth.setPortLabel', (arg: unknown) => setPortLabel(services, arg)),
		vscode.commands.registerCommand('berth.changePortProtocol', (arg: unknown) =>
			changePortProtocol(services, arg),
		),
		vscode.commands.registerCommand('berth.showPanel', () => showPanel()),
		vscode.commands.registerCommand('berth.showLog', () => services.channel.show(true)),
	];
}
