import * as vscode from 'vscode';
import { parseRowContext } from '../../protocol/webview';
import type { Connection } from '../agent/connection';
import { INIT_URL_SHAPE, readInitUrlInput, validateInitUrlInput } from '../agent/init-url-input';
import { describeSignInNeeded } from '../error-text';
import { showSignInNeeded } from '../notify';
import { withoutAgent } from '../ports/saved-state';
import type { Services } from '../services';
import { connectTo, remoteTarget } from './connect';
import { signInToAgent } from './device-sign-in';

const TITLE = 'Connect with Init URL';

/** The agent a command was given: an id (tooltip links, notifications) or a panel row. */
function agentArg(arg: unknown): string | undefined {
	return typeof arg === 'string' ? arg : parseRowContext(arg)?.berthAgentId;
}

/**
 * `Berth: Connect with Init URL...`: the init URL an agent's owner handed out (`berth token
 * create`) names the agent, carries the user's token and pins the agent's key. The box hides what
 * is pasted (it holds the token) and names the wrong part of a bad URL. Connects as a Berth agent;
 * the token and the pin go to SecretStorage once the connection worked. `arg`: the agent asking
 * to be signed in to again (a revoked or expired token), for the prompt. Resolves with the agent's id.
 */
export async function connectWithInitUrl(services: Services, arg?: unknown): Promise<string | undefined> {
	const again = agentArg(arg);
	const text = await vscode.window.showInputBox({
		title: TITLE,
		prompt:
			(again ? `A new init URL for ${again}, from its owner. ` : "The init URL from the agent's owner. ") +
			'VS Code keeps its token in its secret storage.',
		placeHolder: INIT_URL_SHAPE,
		password: true,
		ignoreFocusOut: true,
		validateInput: validateInitUrlInput,
	});
	const login = text === undefined ? undefined : readInitUrlInput(text);
	if (!login?.ok) {
		return undefined;
	}
	const target = remoteTarget(login.agentId, 'berth', {
		token: login.token,
		...(login.agentKey !== undefined ? { agentKey: login.agentKey } : {}),
		sessionPrefix: login.sessionPrefix,
	});
	if (!(await connectTo(services, target, { storeToken: true }))) {
		return undefined;
	}
	const user = services.connections.get(login.agentId)?.user;
	services.log.info(`signed in to ${login.agentId}${user ? ` as ${user}` : ''} with an init URL`);
	return login.agentId;
}

/**
 * `Berth: Sign Out...`: forgets the token saved for an agent (picked when several hold one) and
 * disconnects from it; its forwards are remembered, as Disconnect does.
 */
export async function signOut(services: Services, arg?: unknown): Promise<void> {
	const agentId = agentArg(arg) ?? (await pickSignedIn(services));
	if (agentId === undefined) {
		return;
	}
	const user = services.connections.get(agentId)?.user;
	await services.secrets.deleteAgentLogin(agentId);
	services.connections.disconnect(agentId);
	services.saved.save(withoutAgent(services.saved.load(), agentId));
	services.log.info(`signed out of ${agentId}`);
	void vscode.window.showInformationMessage(
		`Signed out of ${agentId}${user ? ` (${user})` : ''}: its token is no longer kept by VS Code.`,
	);
}

/** The remote agent to sign out of: the one that holds a token, or the user's pick among several. */
async function pickSignedIn(services: Services): Promise<string | undefined> {
	const candidates = services.connections
		.all()
		.filter((c) => !c.target.isLocal && c.target.token !== undefined);
	if (candidates.length === 0) {
		void vscode.window.showInformationMessage('This window is not signed in to any agent.');
		return undefined;
	}
	if (candidates.length === 1) {
		return candidates[0]!.target.id;
	}
	const item = await vscode.window.showQuickPick(
		candidates.map((c) => ({
			label: c.target.id,
			description: c.user ?? 'connection token',
			id: c.target.id,
		})),
		{ placeHolder: 'Sign out of which agent?' },
	);
	return item?.id;
}

/**
 * Tells once per connection when an agent refuses its token for good while it runs (revoked, or
 * expired): the session was cut, and the client library does not retry. The notification offers
 * both ways to a new token, Sign In to Agent... (the browser) and Connect with Init URL...; the
 * panel and the status bar say the same until then.
 */
export function watchTokenProblems(services: Services): vscode.Disposable {
	const told = new WeakSet<Connection>();
	return services.connections.onDidChange((change) => {
		const connection = change.kind === 'status' ? services.connections.get(change.agentId) : undefined;
		const status = connection?.status;
		if (!connection || status?.type !== 'failed' || !status.tokenProblem || told.has(connection)) {
			return;
		}
		told.add(connection);
		void showSignInNeeded(
			describeSignInNeeded(status.tokenProblem, connection.target.id, connection.user),
			connection.target.id,
		);
	});
}

/**
 * Registers Sign In to Agent..., Connect with Init URL... and Sign Out..., and the notice of a
 * token refused while in use.
 */
export function registerSignInCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.signIn', (arg: unknown) => signInToAgent(services, arg)),
		vscode.commands.registerCommand('berth.connectWithInitUrl', (arg: unknown) =>
			connectWithInitUrl(services, arg),
		),
		vscode.commands.registerCommand('berth.signOut', (arg: unknown) => signOut(services, arg)),
		watchTokenProblems(services),
	];
}
