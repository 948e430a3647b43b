import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { expandHome, listSshConfigHosts, type SshConfigReader } from '../ssh/ssh-config-hosts';
import {
	sshHostChoices,
	withTypedHost,
	type ConnectedSshHost,
	type SshHostChoice,
} from '../ssh/ssh-host-choices';

/** The largest config file read for the list (bytes): a config is a few KiB. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

interface HostItem extends vscode.QuickPickItem {
	readonly host: string;
}

/** What the pick says: its title, and what picking a typed host does. */
export interface SshHostPickText {
	readonly title: string;
	readonly typedDescription: string;
}

/**
 * Asks for a host: the ssh hosts this window is connected to, the Host entries of the ssh config
 * (`berth.ssh.configFile`, else ~/.ssh/config, with its Includes), or `[user@]host[:port]` typed
 * in. Resolves with the host as picked or typed, or undefined when the user cancelled.
 */
export function pickSshHost(services: Services, text: SshHostPickText): Promise<string | undefined> {
	const { file, name } = configFileOf(services);
	const choices = sshHostChoices(
		connectedSshHosts(services),
		listSshConfigHosts(file, fileReader, homedir()),
		name,
	);
	const pick = vscode.window.createQuickPick<HostItem>();
	pick.title = text.title;
	pick.placeholder = 'A host of your ssh config, or user@host[:port]';
	pick.ignoreFocusOut = true;
	pick.matchOnDescription = true;
	const show = (list: readonly SshHostChoice[]): void => {
		pick.items = list.map((c) => ({
			label: c.host,
			description: c.description,
			host: c.host,
			...(c.typed ? { alwaysShow: true } : {}),
		}));
	};
	show(choices);
	return new Promise<string | undefined>((resolve) => {
		pick.onDidChangeValue((value) => show(withTypedHost(choices, value, text.typedDescription)));
		pick.onDidAccept(() => {
			const host = pick.selectedItems[0]?.host ?? (pick.value.trim() || undefined);
			resolve(host);
			pick.hide();
		});
		pick.onDidHide(() => {
			resolve(undefined);
			pick.dispose();
		});
		pick.show();
	});
}

/** The ssh hosts this window is connected to (or trying to be), by the host they were named with. */
function connectedSshHosts(services: Services): ConnectedSshHost[] {
	return services.connections
		.all()
		.flatMap((c) => (c.target.ssh ? [{ host: c.target.ssh.host, status: c.status.type }] : []));
}

/** The config file listed, and how the list names it. */
function configFileOf(services: Services): { file: string; name: string } {
	const setting = services.config.settings.sshConfigFile;
	return setting !== undefined
		? { file: expandHome(setting, homedir()), name: setting }
		: { file: join(homedir(), '.ssh', 'config'), name: '~/.ssh/config' };
}

/** Reads the config's files as ssh would find them; what cannot be read is left out. */
const fileReader: SshConfigReader = {
	readFile: (path) => {
		try {
			return statSync(path).size <= MAX_CONFIG_FILE_BYTES ? readFileSync(path, 'utf8') : undefined;
		} catch {
			return undefined;
		}
	},
	listDir: (path) => {
		try {
			return readdirSync(path);
		} catch {
			return undefined;
		}
	},
};
