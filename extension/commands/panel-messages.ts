import * as vscode from 'vscode';
import { assertNever } from '../../protocol/errors';
import { PORTS_VIEW_ID, type ForwardRef, type FromWebview, type RowContext } from '../../protocol/webview';
import { LOCAL_AGENT_ID } from '../agent/connection';

/**
 * Runs what the panel asked for. Messages were validated by protocol/webview.ts; every action
 * runs the same command as the palette and the row's context menu, with the row's context as its
 * argument (what the context menu would pass), so each behaves the same from everywhere.
 */
export function handlePanelMessage(message: FromWebview): void {
	const run = (command: string, arg?: RowContext): void =>
		void vscode.commands.executeCommand(command, ...(arg ? [arg] : []));
	switch (message.type) {
		case 'ready':
			return;
		case 'forwardPort':
			return run('berth.forwardPort');
		case 'turnOnTunnelAccess':
			return run('berth.turnOnTunnelAccess');
		case 'connect':
			return run('berth.connect');
		case 'forwardDetected':
			return run('berth.forwardPort', portRow('detected', message.agentId, message.host, message.port));
		case 'stopForwarding':
			return run('berth.stopForwarding', forwardRow(message));
		case 'openInBrowser':
			return run('berth.openInBrowser', forwardRow(message));
		case 'previewInEditor':
			return run('berth.previewInEditor', forwardRow(message));
		case 'copyLocalAddress':
			return run('berth.copyLocalAddress', forwardRow(message));
		case 'stopProxy':
			return run('berth.stopProxy', proxyRow(message));
		case 'copyProxyAddress':
			return run('berth.copyProxyAddress', proxyRow(message));
		case 'setLabel':
			void askThenRefocus(
				'berth.setPortLabel',
				portRow('detected', message.agentId, message.host, message.port),
			);
			return;
		case 'disconnect':
			return run('berth.disconnect', agentRow(message.agentId));
		case 'reconnect':
			return run('berth.reconnect', agentRow(message.agentId));
		case 'signIn':
			return run('berth.signIn', agentRow(message.agentId));
		default:
			assertNever(message, 'panel message');
	}
}

/**
 * Runs a command that asks in a quick input, then gives the focus back to the panel: the workbench
 * does not give it back to a webview, and a keyboard user goes on from the row (F2, then Delete).
 */
async function askThenRefocus(command: string, arg: RowContext): Promise<void> {
	await vscode.commands.executeCommand(command, arg);
	await vscode.commands.executeCommand(`${PORTS_VIEW_ID}.focus`);
}

/**
 * A forward's row (local or reverse: the commands find the forward by its id). The section is
 * `forward` for both: commands read only the ids.
 */
function forwardRow(ref: ForwardRef): RowContext {
	return {
		webviewSection: 'forward',
		berthAgentId: ref.agentId,
		berthForwardId: ref.forwardId,
		preventDefaultContextMenuItems: true,
	};
}

/** A proxy's row: the commands find the proxy by its id (in `berthForwardId`). */
function proxyRow(ref: ForwardRef): RowContext {
	return { ...forwardRow(ref), webviewSection: 'proxy' };
}

/**
 * A port by agent, host and port, as a detected row carries it: Set Port Label labels that port
 * (whether a forward reaches it or not), Forward forwards it.
 */
function portRow(section: 'detected', agentId: string, host: string, port: number): RowContext {
	return {
		webviewSection: section,
		berthAgentId: agentId,
		berthHost: host,
		berthPort: port,
		preventDefaultContextMenuItems: true,
	};
}

function agentRow(agentId: string): RowContext {
	return {
		webviewSection: agentId === LOCAL_AGENT_ID ? 'localAgent' : 'agent',
		berthAgentId: agentId,
		preventDefaultContextMenuItems: true,
	};
}
