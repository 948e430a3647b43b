import * as vscode from 'vscode';
import { parseRowContext } from '../../protocol/webview';
import type { ProxyInfo } from '../../server/client/index';
import { LOCAL_AGENT_ID } from '../agent/connection';
import { showError } from '../notify';
import { parsePortInput } from '../ports/forward-input';
import type { PickedProxy } from '../ports/proxy-forwarding';
import { describeProxyError } from '../proxy-error-text';
import type { Services } from '../services';
import { connectToAgent } from './connect';
import { showPanel } from './forward';
import { MultiStepInput } from './multi-step-input';
import { agentName } from './pick';

/** How long "Copied …" stays in the status bar. */
const COPIED_MESSAGE_MS = 3_000;

/**
 * What each command says: its title, what it is for (the quick pick's placeholder: one short line,
 * as a longer one is cut), what it makes (the items' detail) and its usual port.
 */
interface ProxyKind {
	readonly mode: 'socks' | 'share';
	readonly title: (agent: string) => string;
	readonly purpose: (agent: string) => string;
	readonly what: (agent: string) => string;
	readonly anyPort: string;
	readonly portPrompt: (agent: string) => string;
	readonly example: string;
}

const SOCKS: ProxyKind = {
	mode: 'socks',
	title: (agent) => `Start SOCKS Proxy through ${agent}`,
	purpose: (agent) => `For this machine's programs to reach what ${agent} reaches`,
	what: (agent) => `A proxy (SOCKS5 and HTTP) on this machine's 127.0.0.1; its traffic leaves from ${agent}`,
	anyPort: 'picked for you',
	portPrompt: () => 'The port on this machine (127.0.0.1) for the proxy: SOCKS5 and HTTP on the same port',
	example: '1080',
};

const SHARE: ProxyKind = {
	mode: 'share',
	title: (agent) => `Share This Machine's Network with ${agent}`,
	purpose: () => 'For a remote without internet that needs npm install',
	what: (agent) =>
		`${agent} gets a proxy port (SOCKS5 and HTTP) on its 127.0.0.1; its traffic leaves from here`,
	anyPort: 'the agent picks one',
	portPrompt: (agent) =>
		`The port on ${agent}'s loopback (127.0.0.1) for the proxy: SOCKS5 and HTTP on the same port`,
	example: '9870',
};

/**
 * The agent in a sentence, as its rows say where traffic leaves: the host name it reported, else
 * its URL.
 */
function hostName(services: Services, agentId: string): string {
	const status = services.connections.get(agentId)?.status;
	return status?.type === 'connected' && status.host ? status.host : agentName(agentId);
}

interface PortChoice extends vscode.QuickPickItem {
	readonly choose: boolean;
}

/**
 * The agent a proxy goes through: the one given (an id, or a row), the only remote Berth agent,
 * or the user's pick. This machine's agent is no use (the traffic would leave from here either
 * way), nor a VS Code server (it carries no proxy); with none, it offers Connect to Agent....
 */
async function pickProxyAgent(
	services: Services,
	arg: unknown,
	kind: ProxyKind,
): Promise<string | undefined> {
	if (typeof arg === 'string') {
		return arg;
	}
	const row = parseRowContext(arg);
	if (row) {
		return row.berthAgentId;
	}
	const remote = services.connections
		.all()
		.filter((c) => !c.target.isLocal && c.target.peer === 'berth' && c.status.type !== 'failed');
	if (remote.length === 0) {
		const connect = 'Connect to Agent...';
		const what = kind.mode === 'socks' ? 'A SOCKS proxy' : "Sharing this machine's network";
		const choice = await vscode.window.showInformationMessage(
			`${what} needs a remote Berth agent: connect to one first.`,
			connect,
		);
		return choice === connect ? connectToAgent(services) : undefined;
	}
	if (remote.length === 1) {
		return remote[0]!.target.id;
	}
	const item = await vscode.window.showQuickPick(
		remote.map((c) => ({
			label: agentName(c.target.id),
			description: c.status.type === 'connected' ? c.status.host : undefined,
			id: c.target.id,
		})),
		{
			placeHolder:
				kind.mode === 'socks' ? 'Which agent should the traffic leave from?' : 'Share with which agent?',
		},
	);
	return item?.id;
}

/**
 * The port: any free one, or the one the user types. The quick pick says what the command is for;
 * Back goes from the port to that choice. Undefined when the user gave up.
 */
async function pickPort(kind: ProxyKind, agent: string): Promise<number | undefined> {
	const items: PortChoice[] = [
		{ label: 'Any Free Port', description: kind.anyPort, detail: kind.what(agent), choose: false },
		{
			label: 'Choose a Port...',
			description: `such as ${kind.example}`,
			detail: 'The same, on the port you type',
			choose: true,
		},
	];
	let port: number | undefined;
	await MultiStepInput.run(async (input) => {
		const choice = await input.showQuickPick({
			title: kind.title(agent),
			step: 1,
			totalSteps: 2,
			items,
			placeholder: kind.purpose(agent),
		});
		if (!choice.choose) {
			port = 0;
			return;
		}
		return async (next) => {
			const text = await next.showInputBox({
				title: kind.title(agent),
				step: 2,
				totalSteps: 2,
				value: '',
				prompt: kind.portPrompt(agent),
				placeholder: kind.example,
				validate: (value) => {
					const parsed = parsePortInput(value);
					return typeof parsed === 'string' ? parsed : undefined;
				},
			});
			port = parsePortInput(text) as number;
		};
	});
	return port;
}

/** Start SOCKS Proxy... and Share This Machine's Network...: agent, port, start; failures say why. */
async function startProxy(services: Services, arg: unknown, kind: ProxyKind): Promise<void> {
	const agentId = await pickProxyAgent(services, arg, kind);
	if (!agentId) {
		return;
	}
	if (agentId === LOCAL_AGENT_ID) {
		void vscode.window.showInformationMessage(
			"This machine's own agent cannot do that: the traffic would leave from this machine either way. Connect to a remote agent.",
		);
		return;
	}
	const port = await pickPort(kind, hostName(services, agentId));
	if (port === undefined) {
		return;
	}
	await runStart(services, agentId, port, kind);
}

async function runStart(services: Services, agentId: string, port: number, kind: ProxyKind): Promise<void> {
	let info: ProxyInfo;
	try {
		info =
			kind.mode === 'socks'
				? await services.proxies.startSocksProxy(agentId, port)
				: await services.proxies.shareNetwork(agentId, port);
	} catch (error) {
		const text = describeProxyError(error, { mode: kind.mode, port, agent: hostName(services, agentId) });
		void showError(text.message, () => runStart(services, agentId, port, kind), text.action);
		return;
	}
	await showPanel(true);
	void tellHowToUse(hostName(services, agentId), info);
}

/** Says how to use the new proxy, with its address (or the agent's shell lines) a click away. */
async function tellHowToUse(agent: string, info: ProxyInfo): Promise<void> {
	const address = `127.0.0.1:${info.bindPort}`;
	const [message, copyLabel, copied] =
		info.mode === 'forward'
			? [
					`SOCKS proxy on ${address}: its traffic leaves from ${agent}. ` +
						`Use it with curl --socks5-hostname ${address}, or HTTPS_PROXY=http://${address}.`,
					'Copy Proxy Address',
					proxyUrl(info),
				]
			: [
					`${agent} has a proxy on ${address} whose traffic leaves from this machine. ` +
						`On the agent, set HTTPS_PROXY and HTTP_PROXY to http://${address}, then npm install.`,
					'Copy Shell Commands',
					`export HTTPS_PROXY=http://${address} HTTP_PROXY=http://${address}`,
				];
	const choice = await vscode.window.showInformationMessage(message, copyLabel);
	if (choice === copyLabel) {
		await copy(copied);
	}
}

/** What Copy Proxy Address copies: `socks5h://127.0.0.1:1080` here, `http://127.0.0.1:9870` on the agent. */
function proxyUrl(info: ProxyInfo): string {
	return `${info.mode === 'forward' ? 'socks5h' : 'http'}://127.0.0.1:${info.bindPort}`;
}

async function copy(text: string): Promise<void> {
	await vscode.env.clipboard.writeText(text);
	void vscode.window.setStatusBarMessage(`Copied ${text}`, COPIED_MESSAGE_MS);
}

/** The proxy a command is about: from a row, a `{agentId, forwardId}` reference, or the user's pick. */
async function pickProxy(
	services: Services,
	arg: unknown,
	placeHolder: string,
): Promise<PickedProxy | undefined> {
	const row = parseRowContext(arg);
	const value = arg as { agentId?: unknown; forwardId?: unknown } | undefined;
	const ref = row?.berthForwardId
		? { agentId: row.berthAgentId, id: row.berthForwardId }
		: typeof value?.agentId === 'string' && typeof value.forwardId === 'string'
			? { agentId: value.agentId, id: value.forwardId }
			: undefined;
	if (ref) {
		const info = services.proxies.find(ref.agentId, ref.id);
		return info && { agentId: ref.agentId, info };
	}
	const all = services.proxies.all();
	if (all.length <= 1) {
		if (all.length === 0) {
			void vscode.window.showInformationMessage('No proxy is running.');
		}
		return all[0];
	}
	const item = await vscode.window.showQuickPick(
		all.map((entry) => ({
			label:
				entry.info.mode === 'forward'
					? `SOCKS proxy (${entry.info.bindPort})`
					: `Shared network (${entry.info.bindPort})`,
			description:
				entry.info.mode === 'forward'
					? `traffic leaves from ${hostName(services, entry.agentId)}`
					: `on ${hostName(services, entry.agentId)}, traffic leaves from this machine`,
			entry,
		})),
		{ placeHolder },
	);
	return item?.entry;
}

/** Registers Start SOCKS Proxy..., Share This Machine's Network..., Stop Proxy and Copy Proxy Address. */
export function registerProxyCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.startSocksProxy', (arg: unknown) =>
			startProxy(services, arg, SOCKS),
		),
		vscode.commands.registerCommand('berth.shareNetwork', (arg: unknown) => startProxy(services, arg, SHARE)),
		vscode.commands.registerCommand('berth.stopProxy', async (arg: unknown) => {
			const picked = await pickProxy(services, arg, 'Stop which proxy?');
			if (picked) {
				services.proxies.stop(picked.agentId, picked.info.id);
			}
		}),
		vscode.commands.registerCommand('berth.copyProxyAddress', async (arg: unknown) => {
			const picked = await pickProxy(services, arg, 'Copy the address of which proxy?');
			if (picked) {
				await copy(proxyUrl(picked.info));
			}
		}),
	];
}
