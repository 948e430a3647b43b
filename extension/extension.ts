import * as path from 'node:path';
import * as vscode from 'vscode';
import { createNodeTimers } from '../server/client/index';
import { ConnectionRegistry } from './agent/connection-registry';
import { LocalAgent } from './agent/local-agent';
import { registerConnectCommands, restoreAgents } from './commands/connect';
import { registerForwardCommands } from './commands/forward';
import { handlePanelMessage } from './commands/panel-messages';
import { registerTunnelCommands, startAgent } from './commands/tunnel';
import { Config } from './config';
import { createLog } from './log';
import { AutoForwardNotifier, openInBrowser } from './notify';
import { Forwarding } from './ports/forwarding';
import { panelNotice } from './ports/ports-model';
import { PortsPresenter } from './ports/ports-presenter';
import { PortsViewProvider } from './ports/ports-view';
import { createSavedStateStore } from './saved-state-store';
import { Secrets } from './secrets';
import type { Services } from './services';
import { StatusController } from './status-controller';
import { errorMessage } from '../protocol/errors';
import { setUnexpectedErrorHandler } from '../protocol/lifecycle';

/** The running agent, for deactivate() to stop and await. */
let localAgent: LocalAgent | undefined;

/** Wires the extension: everything it creates goes into `context.subscriptions`. */
export function activate(context: vscode.ExtensionContext): void {
	const services = createServices(context);
	const push = <T extends { dispose(): void }>(item: T): T => (context.subscriptions.push(item), item);
	const { connections, forwarding, log } = services;
	localAgent = services.localAgent;
	// An error no session contained (a listener that threw) goes to the log; the extension goes on.
	push(
		setUnexpectedErrorHandler((error) => log.error(`unexpected error (contained): ${errorMessage(error)}`)),
	);

	const notice = (): string | undefined =>
		panelNotice({
			trusted: vscode.workspace.isTrusted,
			agents: connections.all().length + connections.connecting().length,
		});
	const presenter = push(
		new PortsPresenter(connections, forwarding, {
			timers: createNodeTimers(),
			notice,
			// Until Forwarding.externalUrl (area C) lands: the same asExternalUri of the local URL.
			externalUrl: async (agentId, info) =>
				(await vscode.env.asExternalUri(vscode.Uri.parse(forwarding.localUrl(agentId, info)))).toString(),
		}),
	);
	const provider = push(
		new PortsViewProvider(context.extensionUri, presenter, handlePanelMessage, log.fork('panel')),
	);
	push(vscode.window.registerWebviewViewProvider(PortsViewProvider.viewType, provider));
	push(new StatusController(services.localAgent, connections, () => startAgent(services)));
	push(services.localAgent.onDidChangeState(() => presenter.schedule()));
	push(services.config.onDidChange(() => presenter.schedule()));
	push(
		vscode.workspace.onDidGrantWorkspaceTrust(() => {
			log.info('the workspace is trusted now: tunnel access can be turned on');
			presenter.schedule();
		}),
	);
	context.subscriptions.push(
		...registerTunnelCommands(services),
		...registerConnectCommands(services),
		...registerForwardCommands(services),
	);
	void restore(services);
}

/** The long-lived objects, each registered for disposal with the extension. */
function createServices(context: vscode.ExtensionContext): Services {
	const push = <T extends { dispose(): void }>(item: T): T => (context.subscriptions.push(item), item);
	const secrets = new Secrets(context.secrets);
	const { channel, log } = createLog(() => secrets.knownTokens);
	push(channel);
	const config = push(new Config(log));
	const connections = push(new ConnectionRegistry(log));
	const saved = createSavedStateStore(context.workspaceState);
	const notifier = new AutoForwardNotifier();
	const forwarding = push(
		new Forwarding(
			connections,
			{
				settings: () => config.settings,
				loadState: saved.load,
				saveState: saved.save,
				notifyAutoForwarded: (message, url) => notifier.notify(message, url),
				openBrowser: (url) => void openInBrowser(url),
			},
			log.fork('ports'),
		),
	);
	const agent = push(
		new LocalAgent({
			serverJs: path.join(context.extensionPath, 'dist', 'server.js'),
			storageDir: context.globalStorageUri.fsPath,
			token: () => secrets.localAgentToken(),
			connections,
			log,
			timers: createNodeTimers(),
		}),
	);
	return { context, log, channel, config, secrets, connections, localAgent: agent, forwarding, saved };
}

/** Brings back the previous session's tunnel access and connections (their forwards follow). */
async function restore(services: Services): Promise<void> {
	const state = services.saved.load();
	if (!services.config.settings.restoreForwardedPorts) {
		return;
	}
	if (state.tunnelAccess && vscode.workspace.isTrusted) {
		services.log.info('restoring tunnel access');
		await startAgent(services);
	}
	await restoreAgents(services);
}

/** Stops the agent and waits for it: it never outlives the window. */
export async function deactivate(): Promise<void> {
	await localAgent?.stop();
	localAgent = undefined;
}
