import * as vscode from 'vscode';

/** Every context key the extension sets, for `when` clauses in package.json. */
export interface ContextKeys {
	/** Tunnel access is on (the local agent runs). */
	readonly 'berth.agentRunning': boolean;
	/** At least one agent is connected (the local one included). */
	readonly 'berth.hasConnections': boolean;
	/** At least one forward is open. */
	readonly 'berth.hasForwards': boolean;
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
