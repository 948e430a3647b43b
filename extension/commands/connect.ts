import * as vscode from 'vscode';
import { isClientToken } from '../../protocol/client-token';
import { isJwtShaped } from '../../protocol/jwt-shape';
import { parseRowContext } from '../../protocol/webview';
import { readAgentAddress } from '../agent/agent-address-input';
import {
	agentIdForUrl,
	agentRefForUrl,
	LOCAL_AGENT_ID,
	probeAgent,
	type AgentTarget,
	type PeerKind,
} from '../agent/connection';
import { readCaFile } from '../agent/tls-ca-file';
import { describeConnectError, type AgentRef } from '../error-text';
import { showError, showSignInNeeded } from '../notify';
import { withAgent, withoutAgent } from '../ports/saved-state';
import type { AgentLogin } from '../secrets';
import type { Services } from '../services';
import { sshHostOfAgentId } from '../ssh/ssh-text';
import { MultiStepInput, type InputStep } from './multi-step-input';

interface PeerItem extends vscode.QuickPickItem {
	readonly peer: PeerKind;
}

const PEER_ITEMS: readonly PeerItem[] = [
	{
		label: 'Berth agent',
		description: 'berth server',
		detail: 'The token never leaves this machine: each side proves it knows it, and an impostor is refused.',
		peer: 'berth',
	},
	{
		label: 'VS Code server',
		description: 'code serve-web, code-server, openvscode-server',
		detail: 'The token is sent to it, as VS Code does, and its identity cannot be checked.',
		peer: 'vscode',
	},
];

const TITLE = 'Connect to Agent';
/** What the token steps say of text that no agent would take (protocol/client-token.ts decides). */
const TOKEN_RULE =
	"A token has only letters, digits, '-' and '_' (a signed user token: three such parts joined by '.')";

/** What the flow has gathered so far (Back keeps it). */
interface ConnectDraft {
	address?: string;
	url?: string;
	peer?: PeerKind;
	token?: string;
}

/**
 * `Berth: Connect to Agent...`: the address (checked to answer before anything else), what runs
 * there, the token; then connects, and stores the token only once it worked. Resolves with the
 * agent's id once connected.
 */
export async function connectToAgent(
	services: Services,
	start: ConnectDraft = {},
): Promise<string | undefined> {
	const draft: ConnectDraft = { ...start };
	let done = false;
	const tokenStep: InputStep = async (input) => {
		const id = agentIdForUrl(draft.url!);
		const saved = await services.secrets.agentLogin(id);
		draft.token = await input.showInputBox({
			title: TITLE,
			step: 3,
			totalSteps: 3,
			value: '',
			password: true,
			prompt: saved
				? `The connection token of ${id} (leave empty to use the saved one)`
				: `The connection token of ${id}. VS Code keeps it in its secret storage; leave empty if the agent has none.`,
			validate: (value) => (value === '' || isClientToken(value.trim()) ? undefined : TOKEN_RULE),
		});
		done = true;
	};
	const peerStep: InputStep = async (input) => {
		const item = await input.showQuickPick({
			title: TITLE,
			step: 2,
			totalSteps: 3,
			items: PEER_ITEMS,
			placeholder: `What runs at ${draft.url}?`,
			...(draft.peer ? { active: PEER_ITEMS.find((i) => i.peer === draft.peer)! } : {}),
		});
		draft.peer = item.peer;
		return tokenStep;
	};
	const addressStep: InputStep = async (input) => {
		draft.address = await input.showInputBox({
			title: TITLE,
			step: 1,
			totalSteps: 3,
			value: draft.address ?? '',
			placeholder: 'host, host:port or ws://host:8765',
			prompt: "The agent's address (port 8765 unless it was started on another). Never put the token in it.",
			validate: (value) => validateAddress(value),
			check: async (value) => {
				const url = (readAgentAddress(value) as { url: string }).url;
				try {
					await probeAgent(url, await readCaFile(services.config.settings.tlsCaFile));
				} catch (error) {
					return describeConnectError(error, agentRefForUrl(url)).message;
				}
				draft.url = url;
				return undefined;
			},
		});
		return peerStep;
	};
	await MultiStepInput.run(addressStep);
	if (!done || !draft.url || !draft.peer) {
		return undefined;
	}
	const id = agentIdForUrl(draft.url);
	const typed = draft.token?.trim();
	// A typed token is a new login (no pin); the saved one keeps what its init URL pinned.
	const login = typed ? { token: typed } : await services.secrets.agentLogin(id);
	return (await connectTo(services, remoteTarget(id, draft.peer, login), { storeToken: Boolean(typed) }))
		? id
		: undefined;
}

/** A remote agent to connect to with a login (its token, and what its init URL pinned), or none. */
export function remoteTarget(id: string, peer: PeerKind, login: AgentLogin | undefined): AgentTarget {
	return {
		id,
		url: id,
		token: login?.token,
		peer,
		isLocal: false,
		...(login?.agentKey !== undefined ? { agentKeyPin: login.agentKey } : {}),
		...(login?.sessionPrefix ? { sessionPrefix: login.sessionPrefix } : {}),
	};
}

/** The address step's message, or undefined when it can be checked. */
function validateAddress(value: string): string | undefined {
	const address = readAgentAddress(value);
	if (typeof address === 'string') {
		return address;
	}
	try {
		agentIdForUrl(address.url);
		return undefined;
	} catch {
		return `${JSON.stringify(value.trim())} is not an address. Enter host, host:port or ws://host:port.`;
	}
}

/**
 * Connects with progress and remembers the agent; a token typed by the user (or from an init URL)
 * is stored only once it worked, with what its init URL pinned. A `wss://` agent's certificate is
 * checked against `berth.tls.caFile` when it is set. A failure says what went wrong in words and
 * offers what can help: Enter Token... for a refused token, Sign In to Agent... and Connect with
 * Init URL... for a user token revoked or expired, Retry when the cause may pass, Connect to
 * Agent... for a wrong kind.
 */
export async function connectTo(
	services: Services,
	target: AgentTarget,
	options: { readonly storeToken?: boolean } = {},
): Promise<boolean> {
	try {
		const tls = await readCaFile(services.config.settings.tlsCaFile);
		await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Connecting to ${target.id}…` },
			() => services.connections.connect({ ...target, tls }),
		);
	} catch (error) {
		const text = describeConnectError(error, agentRefOf(target));
		if (text.action === 'signIn') {
			void showSignInNeeded(text.message, target.id);
			return false;
		}
		const act = (): unknown => {
			switch (text.action) {
				case 'enterToken':
					return enterToken(services, target);
				case 'connect':
					return connectToAgent(services, { address: target.url });
				case 'trustCa':
					return vscode.commands.executeCommand('workbench.action.openSettings', 'berth.tls.caFile');
				default:
					return connectTo(services, target, options);
			}
		};
		void showError(text.message, act, text.action);
		return false;
	}
	if (options.storeToken && target.token) {
		await services.secrets.storeAgentLogin(target.id, {
			token: target.token,
			...(target.agentKeyPin !== undefined ? { agentKey: target.agentKeyPin } : {}),
			...(target.sessionPrefix ? { sessionPrefix: target.sessionPrefix } : {}),
		});
	}
	services.saved.save(withAgent(services.saved.load(), { url: target.id, peer: target.peer }));
	return true;
}

/** The agent of a target for error-text.ts: its address, and whether a user token was presented. */
export function agentRefOf(target: AgentTarget): AgentRef {
	return {
		...agentRefForUrl(target.url),
		...(target.token !== undefined && isJwtShaped(target.token) ? { userToken: true } : {}),
	};
}

/** Enter Token...: asks for the token again and retries with it. */
async function enterToken(services: Services, target: AgentTarget): Promise<boolean> {
	const token = await vscode.window.showInputBox({
		title: `Connect to ${target.id}`,
		prompt: `The connection token of ${target.id}`,
		password: true,
		ignoreFocusOut: true,
		validateInput: (value) => (isClientToken(value.trim()) ? undefined : TOKEN_RULE),
	});
	if (token === undefined) {
		return false;
	}
	// A token typed here is a new login: the pin of an init URL's token does not apply to it.
	return connectTo(services, remoteTarget(target.id, target.peer, { token: token.trim() }), {
		storeToken: true,
	});
}

/**
 * Reconnects every agent this window was connected to before the reload (tokens from SecretStorage);
 * an ssh host's through Connect to Host via SSH..., which opens its tunnel again.
 */
export async function restoreAgents(services: Services): Promise<void> {
	for (const agent of services.saved.load().agents) {
		const sshHost = sshHostOfAgentId(agent.url);
		if (sshHost !== undefined) {
			void vscode.commands.executeCommand('berth.connectSsh', sshHost);
			continue;
		}
		const login = await services.secrets.agentLogin(agent.url);
		void connectTo(services, remoteTarget(agent.url, agent.peer, login));
	}
}

/** The remote agent a command is about: from a panel row, a tooltip link, or a pick. */
async function pickAgent(services: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
	if (typeof arg === 'string') {
		return arg;
	}
	const row = parseRowContext(arg);
	if (row) {
		return row.berthAgentId;
	}
	const remote = services.connections.all().filter((c) => !c.target.isLocal);
	if (remote.length === 0) {
		void vscode.window.showInformationMessage('This window is not connected to any remote agent.');
		return undefined;
	}
	if (remote.length === 1) {
		return remote[0]!.target.id;
	}
	const item = await vscode.window.showQuickPick(
		remote.map((c) => ({ label: c.target.id, description: c.status.type, id: c.target.id })),
		{ placeHolder },
	);
	return item?.id;
}

/** Registers Connect to Agent..., Disconnect from Agent... and Reconnect to Agent. */
export function registerConnectCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.connect', () => connectToAgent(services)),
		vscode.commands.registerCommand('berth.disconnect', async (arg: unknown) => {
			const agentId = await pickAgent(services, arg, 'Disconnect from which agent?');
			if (agentId === LOCAL_AGENT_ID) {
				// This machine's agent is tunnel access: turning it off asks before it closes forwards.
				await vscode.commands.executeCommand('berth.turnOffTunnelAccess');
			} else if (agentId) {
				services.connections.disconnect(agentId);
				services.saved.save(withoutAgent(services.saved.load(), agentId));
				services.log.info(`disconnected from ${agentId}`);
			}
		}),
		vscode.commands.registerCommand('berth.reconnect', async (arg: unknown) => {
			const agentId = await pickAgent(services, arg, 'Reconnect to which agent?');
			const connection = agentId ? services.connections.get(agentId) : undefined;
			if (agentId === LOCAL_AGENT_ID) {
				await vscode.commands.executeCommand('berth.turnOnTunnelAccess');
			} else if (connection?.resumeNow()) {
				// Held by the agent: resumed now, its connections kept (a new connection would drop them).
				services.log.info(`${agentId}: trying to resume the session now`);
			} else if (connection?.target.ssh) {
				// Nothing held to resume, or its tunnel failed for good: a new one, through ssh again.
				await vscode.commands.executeCommand('berth.connectSsh', connection.target.ssh.host);
			} else if (connection?.status.type === 'failed' && connection.status.tokenProblem) {
				// The agent will refuse this token again: only a new one helps.
				await vscode.commands.executeCommand('berth.connectWithInitUrl', agentId);
			} else if (connection) {
				await connectTo(services, connection.target);
			}
		}),
	];
}
