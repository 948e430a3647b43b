import * as vscode from 'vscode';
import { assertNever } from '../../protocol/errors';
import type { FromWebview } from '../../protocol/webview';
import type { Services } from '../services';
import { connectHostFor } from '../ports/forward-input';
import { forwardTarget } from './forward';

/**
 * Runs what the panel asked for. Messages were validated by protocol/webview.ts; row actions go
 * through the same commands as the palette and the context menus.
 */
export function handlePanelMessage(services: Services, message: FromWebview): void {
	const run = (command: string, arg?: unknown): void => void vscode.commands.executeCommand(command, arg);
	switch (message.type) {
		case 'ready':
			return;
		case 'forwardPort':
			return run('berth.forwardPort');
		case 'connect':
			return run('berth.connect');
		case 'forwardDetected':
			void forwardTarget(services, message.agentId, {
				host: connectHostFor(message.host),
				port: message.port,
			});
			return;
		case 'stopForwarding':
			return run('berth.stopForwarding', { agentId: message.agentId, forwardId: message.forwardId });
		case 'openInBrowser':
			return run('berth.openInBrowser', { agentId: message.agentId, forwardId: message.forwardId });
		case 'copyLocalAddress':
			return run('berth.copyLocalAddress', { agentId: message.agentId, forwardId: message.forwardId });
		case 'setLabel':
			return run('berth.setPortLabel', { agentId: message.agentId, host: message.host, port: message.port });
		case 'disconnect':
			return run('berth.disconnect', message.agentId);
		case 'reconnect':
			return run('berth.reconnect', message.agentId);
		default:
			assertNever(message, 'panel message');
	}
}
