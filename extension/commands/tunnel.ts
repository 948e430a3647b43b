import * as vscode from 'vscode';
import { errorMessage } from '../../protocol/errors';
import { showError } from '../notify';
import type { Services } from '../services';

/** Why the agent does not start here, with the way out. */
export async function explainRestrictedMode(): Promise<void> {
	const choice = await vscode.window.showWarningMessage(
		'Berth cannot start its agent in Restricted Mode: this workspace is not trusted, and tunnel access ' +
			'would let other machines reach ports on this one. Trust the workspace to turn tunnel access on.',
		'Manage Workspace Trust',
	);
	if (choice === 'Manage Workspace Trust') {
		await vscode.commands.executeCommand('workbench.trust.manage');
	}
}

/** Starts the local agent (tunnel access on); says why not in an untrusted workspace. */
export async function startAgent(services: Services): Promise<void> {
	if (!vscode.workspace.isTrusted) {
		await explainRestrictedMode();
		return;
	}
	try {
		await services.localAgent.start();
		services.saved.save({ ...services.saved.load(), tunnelAccess: true });
	} catch (error) {
		void showError(`Berth: the agent could not start: ${errorMessage(error)}`, () => startAgent(services));
	}
}

/** Stops the local agent (tunnel access off) and remembers it is off. */
export async function stopAgent(services: Services): Promise<void> {
	await services.localAgent.stop();
	services.saved.save({ ...services.saved.load(), tunnelAccess: false });
}

/** Registers the tunnel access commands. */
export function registerTunnelCommands(services: Services): vscode.Disposable[] {
	const { localAgent, secrets } = services;
	return [
		vscode.commands.registerCommand('berth.toggleTunnelAccess', () =>
			localAgent.isRunning || localAgent.state.type === 'stopping'
				? stopAgent(services)
				: startAgent(services),
		),
		vscode.commands.registerCommand('berth.startAgent', () => startAgent(services)),
		vscode.commands.registerCommand('berth.stopAgent', () => stopAgent(services)),
		vscode.commands.registerCommand('berth.copyAgentUrl', async () => {
			const state = localAgent.state;
			if (state.type !== 'on') {
				void vscode.window.showInformationMessage(
					'Berth: tunnel access is off, so there is no agent URL to copy.',
				);
				return;
			}
			await vscode.env.clipboard.writeText(state.url);
			void vscode.window.showInformationMessage(`Berth: copied the agent URL ${state.url}`);
		}),
		vscode.commands.registerCommand('berth.copyAgentToken', async () => {
			await vscode.env.clipboard.writeText(await secrets.localAgentToken());
			void vscode.window.showInformationMessage(
				'Berth: copied the connection token. Anyone with it and the URL can forward ports of this machine.',
			);
		}),
	];
}
