import * as vscode from 'vscode';

/** Every context key the extension sets, for `when` clauses in package.json. */
export interface ContextKeys {
	/** Tunnel access is on (the local agent runs). */
	readonly 'berth.agentRunning': boolean;
	/** At least one remote agent is connected, or being reconnected (this machine's agent is not counted). */
	readonly 'berth.hasConnections': boolean;
	/** At least one forward is open, through any agent. */
	readonly 'berth.hasForwards': boolean;
	/** At least one proxy port runs (a SOCKS proxy, or this machine's network shared), on any agent. */
	readonly 'berth.hasProxies': boolean;
	/** Tunnel access is on and someone else uses it. */
	readonly 'berth.hasTunnelClients': boolean;
	/** At least one connected agent is a Berth agent (reverse forwards need one). */
	readonly 'berth.hasBerthAgents': boolean;
}

/** Sets context keys, skipping values that did not change. The one place that calls setContext. */
export class ContextKeySetter {
	private readonly last = new Map<string, unknown>();

	set<K extends keyof ContextKeys>(key: K, value: ContextKeys[K]): void {
		if (this.last.get(key) === value) {
			return;
		}
		this.last.set(key, value);
		void vscode.commands.executeCommand('setContext', key, value);
	}
}
