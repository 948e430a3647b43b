import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { formatHostPort } from '../../protocol/host-port';
import { LOCAL_AGENT_ID } from '../agent/connection';
import { shareableTunnelUrl } from '../agent/tunnel-reach';
import { describeTunnelStartError } from '../error-text';
import { showError } from '../notify';
import type { Services } from '../services';
import { isLoopbackAddress } from '../settings';
import { registerTunnelClientCommands } from './tunnel-clients';

/** globalState: the non-loopback tunnel hosts the user agreed to bind without TLS. */
const ACCEPTED_PLAIN_HOSTS_KEY = 'berth.tunnel.acceptedPlainHosts';

/** Why the agent does not start here, with the way out. */
export async function explainRestrictedMode(): Promise<void> {
	const choice = await vscode.window.showWarningMessage(
		'Berth cannot turn tunnel access on in Restricted Mode: this workspace is not trusted, and tunnel ' +
			'access would let other machines reach ports on this one. Trust the workspace to turn it on.',
		'Manage Workspace Trust',
	);
	if (choice === 'Manage Workspace Trust') {
		await vscode.commands.executeCommand('workbench.trust.manage');
	}
}

/**
 * Before tunnel access listens on more than loopback: a modal warning, since Berth's transport
 * has no TLS. "Turn On" asks again next time; "Always for HOST" is remembered.
 */
async function confirmPlainNetwork(services: Services, host: string): Promise<boolean> {
	const memento = services.context.globalState;
	const accepted = memento.get<string[]>(ACCEPTED_PLAIN_HOSTS_KEY, []);
	if (isLoopbackAddress(host) || accepted.includes(host)) {
		return true;
	}
	const always = `Turn On, Always for ${host}`;
	const choice = await vscode.window.showWarningMessage(
		`Turn on tunnel access on ${host}, without encryption?`,
		{
			modal: true,
			detail:
				`Other machines on the network will reach this machine's agent at ${host}. Berth's connection ` +
				'has no TLS: tokens are proven without being sent, but forwarded traffic crosses the network in ' +
				'clear, and someone on the path could read or change it. On networks you do not trust, keep ' +
				'tunnel access on 127.0.0.1 (the Tunnel Host setting) and reach it through SSH.',
		},
		'Turn On',
		always,
	);
	if (choice === always) {
		await memento.update(ACCEPTED_PLAIN_HOSTS_KEY, [...accepted, host]);
	}
	return choice !== undefined;
}

/**
 * Turns tunnel access on (the local agent); says why not in an untrusted workspace. Resolves true
 * once it is on, so a flow that needed it (Forward a Port) can go on.
 */
export async function turnOnTunnelAccess(services: Services): Promise<boolean> {
	if (!vscode.workspace.isTrusted) {
		await explainRestrictedMode();
		return false;
	}
	const { tunnelHost, tunnelPort } = services.config.settings;
	if (!services.localAgent.isRunning && !(await confirmPlainNetwork(services, tunnelHost))) {
		return false;
	}
	try {
		await services.localAgent.start();
		services.saved.save({ ...services.saved.load(), tunnelAccess: true });
		return true;
	} catch (error) {
		const text = describeTunnelStartError(error, tunnelHost, tunnelPort);
		void showError(text.message, () => turnOnTunnelAccess(services), text.action);
		return false;
	}
}

/**
 * Turns tunnel access off. Forwards through other agents stay; forwards through this machine's
 * own agent close with it, so it asks first (they come back when it is turned on again).
 */
export async function turnOffTunnelAccess(services: Services): Promise<void> {
	const forwards = (services.connections.get(LOCAL_AGENT_ID)?.forwards ?? []).filter(
		(f) => f.state !== 'closed',
	);
	const state = services.localAgent.state;
	const clients = state.type === 'on' ? state.clients : 0;
	if (forwards.length > 0 || clients > 0) {
		const lines = [
			...(forwards.length > 0
				? [
						`Your ${forwards.length === 1 ? 'forward' : 'forwards'} through this machine's agent will close: ` +
							`${forwards.map((f) => formatHostPort(f.targetHost, f.targetPort)).join(', ')}. ` +
							'They come back when you turn tunnel access on again.',
					]
				: []),
			...(clients > 0
				? [`${clients === 1 ? '1 client' : `${clients} clients`} using it will be disconnected.`]
				: []),
			'Your forwards through other agents stay.',
		];
		const choice = await vscode.window.showWarningMessage(
			'Turn off tunnel access?',
			{ modal: true, detail: lines.join('\n\n') },
			'Turn Off',
		);
		if (choice !== 'Turn Off') {
			return;
		}
	}
	await services.localAgent.stop();
	services.saved.save({ ...services.saved.load(), tunnelAccess: false });
}

/** Registers the tunnel access commands (one vocabulary: Turn On/Off Tunnel Access). */
export function registerTunnelCommands(services: Services): vscode.Disposable[] {
	const { localAgent, secrets } = services;
	return [
		vscode.commands.registerCommand('berth.toggleTunnelAccess', () =>
			localAgent.isRunning || localAgent.state.type === 'stopping'
				? turnOffTunnelAccess(services)
				: turnOnTunnelAccess(services),
		),
		vscode.commands.registerCommand('berth.turnOnTunnelAccess', () => turnOnTunnelAccess(services)),
		vscode.commands.registerCommand('berth.turnOffTunnelAccess', () => turnOffTunnelAccess(services)),
		vscode.commands.registerCommand('berth.copyAgentUrl', async () => {
			const state = localAgent.state;
			if (state.type !== 'on') {
				void vscode.window.showInformationMessage('Tunnel access is off, so there is no URL to copy.');
				return;
			}
			const url = shareableTunnelUrl({ host: state.host, port: state.port, machine: hostname() });
			await vscode.env.clipboard.writeText(url);
			void vscode.window.showInformationMessage(
				isLoopbackAddress(state.host)
					? `Copied ${url}. It is loopback only: other machines reach it through "ssh -L ${state.port}:127.0.0.1:${state.port} ${hostname()}".`
					: `Copied ${url}.`,
			);
		}),
		vscode.commands.registerCommand('berth.copyAgentToken', async () => {
			await vscode.env.clipboard.writeText(await secrets.localAgentToken());
			void vscode.window.showInformationMessage(
				'Copied the connection token. Anyone with it who can reach tunnel access can forward ports of this machine.',
			);
		}),
		...registerTunnelClientCommands(services),
	];
}
