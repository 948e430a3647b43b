import * as vscode from 'vscode';
import { parseRowContext } from '../../protocol/webview';
import { formatSshTarget, type SshTarget } from '../../server/client/index';
import type { AgentTunnel } from '../agent/agent-tunnel';
import { withAgent, withoutAgent } from '../ports/saved-state';
import type { Services } from '../services';
import type { SshConnector } from '../ssh/ssh-connector';
import {
	describeSshFailure,
	describeSshProgress,
	describeSshStopped,
	sshAgentId,
	sshHostOfAgentId,
	type SshFailureText,
} from '../ssh/ssh-text';
import { pickSshHost } from './ssh-host-pick';

/** The buttons of an ssh failure, by what can help, besides Show Log. */
const FAILURE_BUTTONS = { nodePath: 'Open Settings', retry: 'Retry', none: undefined } as const;

/**
 * `Berth: Connect to Host via SSH...`: the host (picked or typed), then, with progress, ssh to it,
 * Node.js checked, the agent installed and started when need be, and the window connected to it
 * through the ssh tunnel; the host then shows in the panel as `ssh://HOST`. A host this window is
 * connected to already is left as it is. Resolves true once connected.
 */
export async function connectSshHost(
	services: Services,
	connector: SshConnector,
	host: string,
): Promise<boolean> {
	let target: SshTarget;
	try {
		target = connector.target(host);
	} catch (error) {
		void showSshFailure(services, describeSshFailure(error, host));
		return false;
	}
	const name = formatSshTarget(target);
	const id = sshAgentId(name);
	// Connected: nothing to do. Reconnecting or failed: a new ssh connection now (the old one is replaced).
	if (services.connections.get(id)?.status.type === 'connected') {
		void vscode.window.showInformationMessage(`This window is connected to ${name} already.`);
		return true;
	}
	try {
		await openWithProgress(services, connector, target);
	} catch (error) {
		void showSshFailure(services, describeSshFailure(error, name), () =>
			connectSshHost(services, connector, name),
		);
		return false;
	}
	services.saved.save(withAgent(services.saved.load(), { url: id, peer: 'berth' }));
	return true;
}

/** ssh to the host with a progress notification, then the window's connection through the tunnel. */
async function openWithProgress(
	services: Services,
	connector: SshConnector,
	target: SshTarget,
): Promise<void> {
	const name = formatSshTarget(target);
	const id = sshAgentId(name);
	const log = services.log.fork(id);
	// The tunnel reports its steps again when it reconnects: those go to the log, not to a notification.
	let shown = true;
	try {
		await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Berth: ${name}` },
			async (progress) => {
				const tunnel = await connector.open(target, (p) =>
					shown
						? progress.report({ message: describeSshProgress(p, name) })
						: log.debug(describeSshProgress(p, name)),
				);
				watchTunnel(services, connector, tunnel, name);
				progress.report({ message: 'connecting to the agent…' });
				const agent = { id, url: `ws://127.0.0.1:${tunnel.address.port}`, token: tunnel.token };
				await services.connections.connect(
					{ ...agent, peer: 'berth', isLocal: false, ssh: { host: name } },
					tunnel,
				);
			},
		);
	} finally {
		shown = false;
	}
}

/** Tells the user when the tunnel fails for good while in use (the panel says it too). */
function watchTunnel(services: Services, connector: SshConnector, tunnel: AgentTunnel, name: string): void {
	const subscription = tunnel.onDidChangeState((state) => {
		if (state.type === 'failed') {
			subscription.dispose();
			void showSshFailure(services, describeSshFailure(state.error, name), () =>
				connectSshHost(services, connector, name),
			);
		}
	});
}

/**
 * `Berth: Stop Agent on Host`: disconnects this window from the host, then ends this build's agent
 * there and removes its token there and here. Other clients of that agent lose it too.
 */
export async function stopSshAgent(services: Services, connector: SshConnector, host: string): Promise<void> {
	let target: SshTarget;
	try {
		target = connector.target(host);
	} catch (error) {
		void showSshFailure(services, describeSshFailure(error, host, true));
		return;
	}
	const name = formatSshTarget(target);
	const id = sshAgentId(name);
	services.connections.disconnect(id);
	services.saved.save(withoutAgent(services.saved.load(), id));
	try {
		const pid = await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Berth: stopping the agent on ${name}` },
			(progress) =>
				connector.stop(target, (p) =>
					progress.report({
						message: p.step === 'starting' ? `stopping the agent on ${name}…` : describeSshProgress(p, name),
					}),
				),
		);
		services.log.info(`stopped the agent on ${name}${pid !== undefined ? ` (pid ${pid})` : ''}`);
		void vscode.window.showInformationMessage(describeSshStopped(name, pid));
	} catch (error) {
		void showSshFailure(services, describeSshFailure(error, name, true), () =>
			stopSshAgent(services, connector, name),
		);
	}
}

/** An ssh failure, with what can help: the node path setting, Retry (when `retry` is given), Show Log. */
async function showSshFailure(
	services: Services,
	text: SshFailureText,
	retry?: () => unknown,
): Promise<void> {
	services.log.warn(text.message);
	const button = text.action === 'retry' && !retry ? undefined : FAILURE_BUTTONS[text.action];
	const choice = await vscode.window.showErrorMessage(text.message, ...(button ? [button] : []), 'Show Log');
	if (choice === 'Show Log') {
		await vscode.commands.executeCommand('berth.showLog');
	} else if (choice === FAILURE_BUTTONS.nodePath) {
		await openMachineSetting(services, 'berth.ssh.nodePath');
	} else if (choice === FAILURE_BUTTONS.retry) {
		await retry?.();
	}
}

/**
 * Opens the settings editor at a setting of `machine` scope where it applies: the user's settings,
 * or the remote's when Berth runs on a remote (a browser window's server), which ignores the user's.
 */
async function openMachineSetting(services: Services, key: string): Promise<void> {
	const remote =
		vscode.env.remoteName !== undefined &&
		services.context.extension.extensionKind === vscode.ExtensionKind.Workspace;
	await vscode.commands.executeCommand(
		remote ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings',
		{ query: key },
	);
}

/** The host a command is about: given (a host, or an agent id), from a panel row, or picked. */
async function hostOf(
	services: Services,
	arg: unknown,
	title: string,
	typed: string,
): Promise<string | undefined> {
	const id = typeof arg === 'string' ? arg : parseRowContext(arg)?.berthAgentId;
	if (id !== undefined) {
		return sshHostOfAgentId(id) ?? id;
	}
	return pickSshHost(services, { title, typedDescription: typed });
}

/** Registers Connect to Host via SSH... and Stop Agent on Host. */
export function registerSshCommands(services: Services, connector: SshConnector): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.connectSsh', async (arg: unknown) => {
			const host = await hostOf(services, arg, 'Connect to Host via SSH', 'connect to this host');
			return host !== undefined ? connectSshHost(services, connector, host) : false;
		}),
		vscode.commands.registerCommand('berth.stopSshAgent', async (arg: unknown) => {
			const host = await hostOf(services, arg, 'Stop Agent on Host', 'stop the agent on this host');
			if (host !== undefined) {
				await stopSshAgent(services, connector, host);
			}
		}),
	];
}
