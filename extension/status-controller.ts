import * as vscode from 'vscode';
import { Disposable } from '../protocol/lifecycle';
import type { ConnectionRegistry } from './agent/connection-registry';
import type { LocalAgent, LocalAgentState } from './agent/local-agent';
import { ContextKeySetter } from './context-keys';
import { showError } from './notify';
import { StatusBar } from './status-bar';
import { describeRemoteAgents, describeTunnelStatus } from './status-text';

/**
 * Keeps the status bar and the context keys in step with the local agent, the connections and
 * workspace trust, and reports an agent that fails while it runs (with Retry).
 */
export class StatusController extends Disposable {
	private readonly statusBar = this._register(new StatusBar());
	private readonly keys = new ContextKeySetter();
	private previous: LocalAgentState;

	constructor(
		private readonly localAgent: LocalAgent,
		private readonly connections: ConnectionRegistry,
		retryAgent: () => unknown,
	) {
		super();
		this.previous = localAgent.state;
		this._register(connections.onDidChange(() => this.refresh()));
		this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()));
		this._register(
			localAgent.onDidChangeState((state) => {
				this.refresh();
				// A failure while running (startAgent reports failures to start itself).
				if (state.type === 'error' && this.previous.type === 'on') {
					void showError(`Berth: ${state.message}`, retryAgent);
				}
				this.previous = state;
			}),
		);
		this.refresh();
	}

	refresh(): void {
		const all = this.connections.all();
		const forwards = all.reduce((n, c) => n + c.forwards.filter((f) => f.state !== 'closed').length, 0);
		this.statusBar.showTunnel(
			describeTunnelStatus({ agent: this.localAgent.state, trusted: vscode.workspace.isTrusted, forwards }),
			this.localAgent.isRunning,
		);
		this.statusBar.showAgents(
			describeRemoteAgents([
				...this.connections
					.connecting()
					.filter((t) => !t.isLocal)
					.map((t) => ({ id: t.id, state: { type: 'connecting' as const } })),
				...all.filter((c) => !c.target.isLocal).map((c) => ({ id: c.target.id, state: c.status })),
			]),
		);
		this.keys.set('berth.agentRunning', this.localAgent.state.type === 'on');
		this.keys.set('berth.hasConnections', all.length > 0);
		this.keys.set('berth.hasForwards', forwards > 0);
	}
}
