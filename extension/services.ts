import type * as vscode from 'vscode';
import type { ConnectionRegistry } from './agent/connection-registry';
import type { LocalAgent } from './agent/local-agent';
import type { Config } from './config';
import type { ExtensionLogger } from './logger';
import type { Forwarding } from './ports/forwarding';
import type { ProxyForwarding } from './ports/proxy-forwarding';
import type { SavedState } from './ports/saved-state';
import type { Secrets } from './secrets';

/** What the commands work with: built once in activate() and passed to each command module. */
export interface Services {
	readonly context: vscode.ExtensionContext;
	readonly log: ExtensionLogger;
	readonly channel: vscode.LogOutputChannel;
	readonly config: Config;
	readonly secrets: Secrets;
	readonly connections: ConnectionRegistry;
	readonly localAgent: LocalAgent;
	readonly forwarding: Forwarding;
	/** The user's proxy ports (Start SOCKS Proxy, Share This Machine's Network). */
	readonly proxies: ProxyForwarding;
	readonly saved: SavedStateStore;
	/** The Remote Port Forwarding panel: `reveal` shows it with a row focused (a `rowKeyOf` key). */
	readonly panel: PanelHost;
}

/** What commands need of the panel (PortsViewProvider). */
export interface PanelHost {
	reveal(rowKey: string): void;
}

/** This window's remembered state (workspaceState). */
export interface SavedStateStore {
	load(): SavedState;
	save(state: SavedState): void;
}
