import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { errorMessage } from '../../protocol/errors';
import { defaultSessionName } from '../../protocol/session-name';
import { parseRowContext } from '../../protocol/webview';
import {
	createNodeTimers,
	parseAgentUrl,
	runDeviceLogin,
	type DeviceCode,
	type DeviceLogin,
} from '../../server/client/index';
import { readAgentAddress } from '../agent/agent-address-input';
import { agentIdForUrl, agentRefForUrl } from '../agent/connection';
import { readCaFile } from '../agent/tls-ca-file';
import { showError } from '../notify';
import type { Services } from '../services';
import { sshHostOfAgentId } from '../ssh/ssh-text';
import {
	ADDRESS_PLACEHOLDER,
	ADDRESS_PROMPT,
	agentPickItems,
	ASKING_FOR_CODE,
	codeMessage,
	CODE_OVER,
	COPY_AND_OPEN,
	describeSignInEnd,
	ENTER_ADDRESS_LABEL,
	signedInMessage,
	signingInTitle,
	SIGN_IN_TITLE,
	waitingMessage,
	type KnownAgent,
} from '../sign-in-text';
import { connectTo, connectToAgent, remoteTarget } from './connect';

/** What the approval page names this window's request ("Allow this device?"), and its token's name. */
const SESSION_NAME_PREFIX = 'VS Code on ';

/**
 * `Berth: Sign In to Agent...`: the device flow (RFC 8628) in VS Code. Asks which agent (a known
 * one, or an address typed in) unless `arg` names one (a panel row, a notification, a tooltip
 * link); the agent gives a one-time code, which a notification shows with Copy and Open (the
 * clipboard, and the agent's approval page in the browser); a cancellable progress notification
 * waits while the person approves. The token, with the agent key's fingerprint to pin, goes to
 * SecretStorage once a connection with it worked, as Connect with Init URL... does. Resolves with
 * the agent's id once signed in and connected.
 */
export async function signInToAgent(services: Services, arg?: unknown): Promise<string | undefined> {
	const given = typeof arg === 'string' ? arg : parseRowContext(arg)?.berthAgentId;
	const agentId = given ?? (await pickAgent(services));
	if (agentId === undefined) {
		return undefined;
	}
	const login = await deviceLogin(services, agentId);
	if (!login) {
		return undefined;
	}
	const target = remoteTarget(agentId, 'berth', {
		token: login.token,
		...(login.agentKey !== undefined ? { agentKey: login.agentKey } : {}),
	});
	if (!(await connectTo(services, target, { storeToken: true }))) {
		return undefined;
	}
	services.log.info(`signed in to ${agentId} as ${login.email} in the browser`);
	void vscode.window.showInformationMessage(signedInMessage(login.email, agentId));
	return agentId;
}

/** The remote Berth agents this window knows: connected, being connected, or remembered. */
function knownAgents(services: Services): KnownAgent[] {
	const known = new Map<string, KnownAgent>();
	for (const c of services.connections.all()) {
		// An ssh host's agent takes its own token (Connect to Host via SSH...): nothing to sign in to.
		if (!c.target.isLocal && c.target.peer === 'berth' && !c.target.ssh) {
			const status = c.status;
			known.set(c.target.id, {
				id: c.target.id,
				...(c.user !== undefined ? { user: c.user } : {}),
				state: status.type,
				...(status.type === 'failed' && status.tokenProblem ? { tokenProblem: status.tokenProblem } : {}),
			});
		}
	}
	for (const target of services.connections.connecting()) {
		if (!target.isLocal && target.peer === 'berth' && !target.ssh && !known.has(target.id)) {
			known.set(target.id, { id: target.id, state: 'connecting' });
		}
	}
	for (const agent of services.saved.load().agents) {
		if (agent.peer === 'berth' && sshHostOfAgentId(agent.url) === undefined && !known.has(agent.url)) {
			known.set(agent.url, { id: agent.url, state: 'saved' });
		}
	}
	return [...known.values()];
}

/** "Sign in to which Berth agent?": a known one, or an address typed in (the only question when none is known). */
async function pickAgent(services: Services): Promise<string | undefined> {
	const agents = knownAgents(services);
	if (agents.length === 0) {
		return askAddress();
	}
	const enter = { label: ENTER_ADDRESS_LABEL, description: '', agentId: undefined };
	const item = await vscode.window.showQuickPick([...agentPickItems(agents), enter], {
		title: SIGN_IN_TITLE,
		placeHolder: 'Sign in to which Berth agent?',
	});
	return item === enter ? askAddress() : item?.agentId;
}

/** The agent's address, read as Connect to Agent reads it (`host`, `host:port`, `ws(s)://`, `http(s)://`). */
async function askAddress(): Promise<string | undefined> {
	const text = await vscode.window.showInputBox({
		title: SIGN_IN_TITLE,
		prompt: ADDRESS_PROMPT,
		placeHolder: ADDRESS_PLACEHOLDER,
		ignoreFocusOut: true,
		validateInput: (value) => {
			const id = agentIdOfInput(value);
			return typeof id === 'string' ? undefined : id.message;
		},
	});
	const id = text === undefined ? undefined : agentIdOfInput(text);
	return typeof id === 'string' ? id : undefined;
}

/** The agent's id (`ws://host:port`) for what was typed, or the message that says what to type. */
function agentIdOfInput(text: string): string | { readonly message: string } {
	const address = readAgentAddress(text);
	if (typeof address === 'string') {
		return { message: address };
	}
	try {
		return agentIdForUrl(address.url);
	} catch {
		return { message: `${JSON.stringify(text.trim())} is not an address. ${ADDRESS_PROMPT}` };
	}
}

/**
 * The device flow with its notifications; the login, or undefined once the user was told why
 * there is none (cancelled, denied, expired, unreachable).
 */
async function deviceLogin(services: Services, agentId: string): Promise<DeviceLogin | undefined> {
	const abort = new AbortController();
	let ended = false;
	try {
		const tls = await readCaFile(services.config.settings.tlsCaFile);
		const login = await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: signingInTitle(agentId), cancellable: true },
			(progress, cancel) => {
				cancel.onCancellationRequested(() => abort.abort());
				progress.report({ message: ASKING_FOR_CODE });
				let userCode = '';
				return runDeviceLogin({
					address: parseAgentUrl(agentId),
					sessionName: defaultSessionName(SESSION_NAME_PREFIX, hostname()),
					...(tls ? { tls } : {}),
					timers: createNodeTimers(),
					signal: abort.signal,
					show: (code) => {
						userCode = code.userCode;
						progress.report({ message: waitingMessage(code.userCode, code.expiresInS) });
						showCode(services, agentId, code, () => ended);
					},
					onPoll: (secondsLeft) => progress.report({ message: waitingMessage(userCode, secondsLeft) }),
				});
			},
		);
		// A poll that completed just as the user cancelled: the cancel wins.
		return abort.signal.aborted ? undefined : login;
	} catch (error) {
		reportEnd(services, agentId, error);
		return undefined;
	} finally {
		ended = true;
	}
}

/**
 * The one-time code's notification. Copy and Open puts the code on the clipboard and opens the
 * agent's approval page with it filled in (the page without it when the agent named none); once
 * the sign-in is over (the notification stays: there is no closing it), it says so instead.
 */
function showCode(services: Services, agentId: string, code: DeviceCode, isOver: () => boolean): void {
	void vscode.window
		.showInformationMessage(codeMessage(agentId, code.userCode), COPY_AND_OPEN)
		.then(async (choice) => {
			if (choice !== COPY_AND_OPEN) {
				return;
			}
			if (isOver()) {
				void vscode.window.showInformationMessage(CODE_OVER);
				return;
			}
			await vscode.env.clipboard.writeText(code.userCode);
			const page = code.verificationUriComplete ?? code.verificationUri;
			if (!(await vscode.env.openExternal(vscode.Uri.parse(page)))) {
				services.log.info(`the browser did not open ${page}: the code is on the clipboard`);
			}
		});
}

/** Tells the user how the sign-in ended, with the one action that can help. */
function reportEnd(services: Services, agentId: string, error: unknown): void {
	const text = describeSignInEnd(error, agentRefForUrl(agentId));
	services.log.info(`sign-in to ${agentId} ended: ${errorMessage(error)}`);
	if (text.severity === 'info') {
		void vscode.window.showInformationMessage(text.message);
		return;
	}
	const act = (): unknown => {
		switch (text.action) {
			case 'connect':
				return connectToAgent(services, { address: agentId });
			case 'trustCa':
				return vscode.commands.executeCommand('workbench.action.openSettings', 'berth.tls.caFile');
			default:
				return signInToAgent(services, agentId);
		}
	};
	void showError(text.message, act, text.action);
}
