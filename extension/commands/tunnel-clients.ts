import * as vscode from 'vscode';
import { BerthError, errorMessage } from '../../protocol/errors';
import { LOCAL_AGENT_ID } from '../agent/connection';
import { describeTunnelClient, groupTunnelClients, type TunnelClient } from '../agent/tunnel-clients';
import { showError } from '../notify';
import type { Services } from '../services';

interface ClientItem extends vscode.QuickPickItem {
	readonly client: TunnelClient;
}

const DISCONNECT_BUTTON: vscode.QuickInputButton = {
	iconPath: new vscode.ThemeIcon('debug-disconnect'),
	tooltip: 'Disconnect',
};

/** The other clients of this machine's agent now, one per peer. */
async function listTunnelClients(services: Services): Promise<TunnelClient[] | undefined> {
	const connection = services.connections.get(LOCAL_AGENT_ID);
	if (!connection) {
		void vscode.window.showInformationMessage('Tunnel access is off: nobody can be using it.');
		return undefined;
	}
	try {
		return groupTunnelClients(await connection.listClients(), services.connections.clientName);
	} catch (error) {
		void showError(
			error instanceof BerthError && error.code === 'BERTH_ERR_RPC_UNKNOWN_METHOD'
				? "This machine's agent cannot list its clients: it is older than this extension. Turn tunnel access off and on again."
				: `Could not list the clients of tunnel access: ${errorMessage(error)}`,
		);
		return undefined;
	}
}

/** Ends every session of `client` on this machine's agent. */
async function disconnect(services: Services, client: TunnelClient): Promise<void> {
	const connection = services.connections.get(LOCAL_AGENT_ID);
	const who = client.name ?? client.address;
	try {
		for (const id of client.sessionIds) {
			await connection?.disconnectClient(id);
		}
		services.log.info(`disconnected the tunnel client ${who}`);
	} catch (error) {
		void showError(`Could not disconnect ${who}: ${errorMessage(error)}`);
	}
}

function toItems(clients: readonly TunnelClient[]): ClientItem[] {
	const now = Date.now();
	return clients.map((client) => ({
		...describeTunnelClient(client, now),
		client,
		buttons: [DISCONNECT_BUTTON],
	}));
}

/**
 * Show Tunnel Clients: who is using my tunnel (name, address, since when, what they forward),
 * with a Disconnect button on each; the list refreshes after each disconnect.
 */
async function showTunnelClients(services: Services): Promise<void> {
	const clients = await listTunnelClients(services);
	if (!clients) {
		return;
	}
	const pick = vscode.window.createQuickPick<ClientItem>();
	const refresh = (list: readonly TunnelClient[]): void => {
		pick.items = toItems(list);
		pick.title = `Tunnel Clients (${list.length})`;
		pick.placeholder =
			list.length === 0
				? 'No other client is using tunnel access.'
				: 'Who uses tunnel access: Disconnect ends a client’s connections and reverse forwards';
	};
	refresh(clients);
	pick.onDidTriggerItemButton(async ({ item }) => {
		pick.busy = true;
		await disconnect(services, item.client);
		refresh((await listTunnelClients(services)) ?? []);
		pick.busy = false;
	});
	pick.onDidAccept(() => pick.hide());
	pick.onDidHide(() => pick.dispose());
	pick.show();
}

/** Disconnect Tunnel Client...: the client given (from the list's button), or the user's pick. */
async function disconnectTunnelClient(services: Services, arg: unknown): Promise<void> {
	const clients = await listTunnelClients(services);
	if (!clients) {
		return;
	}
	const given = typeof arg === 'string' ? clients.find((c) => c.sessionIds.includes(arg)) : undefined;
	if (given) {
		await disconnect(services, given);
		return;
	}
	if (clients.length === 0) {
		void vscode.window.showInformationMessage('No other client is using tunnel access.');
		return;
	}
	const item = await vscode.window.showQuickPick(toItems(clients), {
		placeHolder: 'Disconnect which client?',
	});
	if (item) {
		await disconnect(services, item.client);
	}
}

/** Registers Show Tunnel Clients and Disconnect Tunnel Client.... */
export function registerTunnelClientCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.showTunnelClients', () => showTunnelClients(services)),
		vscode.commands.registerCommand('berth.disconnectTunnelClient', (arg: unknown) =>
			disconnectTunnelClient(services, arg),
		),
	];
}
