import { createHash } from 'node:crypto';
import { homedir, hostname, userInfo } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createNodeTimers } from '../server/client/index';
import { ConnectionRegistry } from './agent/connection-registry';
import { LocalAgent } from './agent/local-agent';
import { parseRememberedTunnelPort, probePort } from './agent/tunnel-port';
import { registerConnectCommands, restoreAgents } from './commands/connect';
import { registerForwardCommands } from './commands/forward';
import { handlePanelMessage } from './commands/panel-messages';
import { registerPortActions } from './commands/port-actions';
import { registerProxyCommands } from './commands/proxy';
import { registerSignInCommands } from './commands/sign-in';
import { registerSshCommands } from './commands/ssh';
import { registerTunnelCommands, turnOnTunnelAccess } from './commands/tunnel';
import { Config } from './config';
import { createLog } from './log';
import { AutoForwardNotifier, notifyConnectionFailed, openInBrowser } from './notify';
import { Forwarding } from './ports/forwarding';
import { panelNotice } from './ports/ports-model';
import { PortsPresenter } from './ports/ports-presenter';
import { PortsViewProvider } from './ports/ports-view';
import { ProxyForwarding } from './ports/proxy-forwarding';
import { createSavedStateStore } from './saved-state-store';
import { Secrets } from './secrets';
import type { Services } from './services';
import { askInVsCode } from './ssh/askpass-prompt';
import { SshConnector } from './ssh/ssh-connector';
import { StatusController } from './status-controller';
import { errorMessage } from '../protocol/errors';
import { setUnexpectedErrorHandler } from '../protocol/lifecycle';

/** globalState: the tunnel port chosen last time (tunnel-port.ts), so the URL survives restarts. */
const TUNNEL_PORT_KEY = 'berth.tunnel.lastPort';

/** The running agent, for deactivate() to stop and await. */
let localAgent: LocalAgent | undefined;

/** Wires the extension: everything it creates goes into `context.subscriptions`. */
export function activate(context: vscode.ExtensionContext): void {
	const push = <T extends { dispose(): void }>(item: T): T => (context.subscriptions.push(item), item);
	const core = createServices(context);
	const { connections, forwarding, log } = core;
	localAgent = core.localAgent;
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
			externalUrl: (agentId, info) => forwarding.externalUrl(agentId, info),
		}),
	);
	const provider = push(
		new PortsViewProvider(context.extensionUri, presenter, handlePanelMessage, log.fork('panel')),
	);
	const ready: Services = { ...core, panel: provider };
	const ssh = push(
		new SshConnector({
			settings: () => core.config.settings,
			tokens: core.secrets.sshTokens,
			log: log.fork('ssh'),
			timers: createNodeTimers(),
			extensionPath: context.extensionPath,
			home: homedir(),
			ask: askInVsCode,
			own: core.connections.own,
		}),
	);
	push(vscode.window.registerWebviewViewProvider(PortsViewProvider.viewType, provider));
	push(new StatusController(core.localAgent, connections, () => turnOnTunnelAccess(ready)));
	push(core.localAgent.onDidChangeState(() => presenter.schedule()));
	push(core.config.onDidChange(() => presenter.schedule()));
	push(
		vscode.workspace.onDidGrantWorkspaceTrust(() => {
			log.info('the workspace is trusted now: tunnel access can be turned on');
			presenter.schedule();
		}),
	);
	context.subscriptions.push(
		...registerTunnelCommands(ready),
		...registerConnectCommands(ready),
		...registerSignInCommands(ready),
		...registerForwardCommands(ready),
		...registerPortActions(ready),
		...registerProxyCommands(ready),
		...registerSshCommands(ready, ssh),
	);
	void restore(ready);
}

/** What this window calls itself on agents (`hello`): who, where, and which window. */
function clientName(): string {
	const window = createHash('sha256').update(vscode.env.sessionId).digest('hex').slice(0, 4);
	return `${userInfo().username}@${hostname()} (VS Code, window ${window})`;
}

/** The long-lived objects, each registered for disposal with the extension. */
function createServices(context: vscode.ExtensionContext): Omit<Services, 'panel'> {
	const push = <T extends { dispose(): void }>(item: T): T => (context.subscriptions.push(item), item);
	const timers = createNodeTimers();
	const secrets = new Secrets(context.secrets);
	const { channel, log, coalescer } = createLog(() => secrets.knownTokens, timers);
	push(channel);
	push(coalescer);
	const config = push(new Config(log));
	const connections = push(new ConnectionRegistry(log, clientName()));
	const saved = createSavedStateStore(context.workspaceState);
	const notifier = new AutoForwardNotifier();
	const forwarding = push(
		new Forwarding(
			connections,
			{
				settings: () => config.settings,
				loadState: saved.load,
				saveState: saved.save,
				externalUri: async (url) => (await vscode.env.asExternalUri(vscode.Uri.parse(url))).toString(true),
				notifyAutoForwarded: (note) => notifier.notify(note),
				notifyConnectionFailed,
				openBrowser: (url) => void openInBrowser(url),
			},
			log.fork('ports'),
		),
	);
	const proxies = push(
		new ProxyForwarding(
			connections,
			{ settings: () => config.settings, loadState: saved.load, saveState: saved.save },
			log.fork('proxies'),
		),
	);
	const agent = push(
		new LocalAgent({
			serverJs: path.join(context.extensionPath, 'dist', 'server.js'),
			storageDir: context.globalStorageUri.fsPath,
			token: () => secrets.localAgentToken(),
			address: () => ({ host: config.settings.tunnelHost, port: config.settings.tunnelPort }),
			portMemory: {
				load: () => parseRememberedTunnelPort(context.globalState.get(TUNNEL_PORT_KEY)),
				save: (port) => void context.globalState.update(TUNNEL_PORT_KEY, port),
			},
			probe: probePort,
			connections,
			log,
			timers,
		}),
	);
	return {
		context,
		log,
		channel,
		config,
		secrets,
		connections,
		localAgent: agent,
		forwarding,
		proxies,
		saved,
	};
}

/** Brings back the previous session's tunnel access and connections (their forwards follow). */
async function restore(services: Services): Promise<void> {
	const state = services.saved.load();
	if (!services.config.settings.restoreForwardedPorts) {
		return;
	}
	if (state.tunnelAccess && vscode.workspace.isTrusted) {
		services.log.info('restoring tunnel access');
		await turnOnTunnelAccess(services);
	}
	await restoreAgents(services);
}

/** Stops the agent and waits for it: it never outlives the window. */
export async function deactivate(): Promise<void> {
	await localAgent?.stop();
	localAgent = undefined;
}
