import { hostname } from 'node:os';
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
				// A failure while running (turning it on reports its own failures).
				if (state.type === 'error' && this.previous.type === 'on') {
					void showError(state.message, retryAgent);
				}
				this.previous = state;
			}),
		);
		this.refresh();
	}

	refresh(): void {
		const all = this.connections.all();
		const open = (forwards: readonly { state: string }[]): number =>
			forwards.filter((f) => f.state !== 'closed').length;
		const local = all.find((c) => c.target.isLocal);
		const remote = all.filter((c) => !c.target.isLocal);
		const state = this.localAgent.state;
		this.statusBar.showTunnel(
			describeTunnelStatus({
				agent: state,
				trusted: vscode.workspace.isTrusted,
				forwards: local ? open(local.forwards) : 0,
				machine: hostname(),
			}),
		);
		this.statusBar.showAgents(
			describeRemoteAgents([
				...this.connections
					.connecting()
					.filter((t) => !t.isLocal)
					.map((t) => ({ id: t.id, state: { type: 'connecting' as const }, forwards: 0 })),
				...remote.map((c) => ({
					id: c.target.id,
					state: c.status,
					forwards: open(c.forwards),
					...(c.user !== undefined ? { user: c.user } : {}),
				})),
			]),
		);
		this.keys.set('berth.agentRunning', state.type === 'on');
		this.keys.set('berth.hasConnections', remote.length > 0);
		this.keys.set(
			'berth.hasForwards',
			all.some((c) => open(c.forwards) > 0),
		);
		this.keys.set(
			'berth.hasProxies',
			all.some((c) => open(c.proxies) > 0),
		);
		this.keys.set('berth.hasTunnelClients', state.type === 'on' && state.clients > 0);
		this.keys.set(
			'berth.hasBerthAgents',
			all.some((c) => c.target.peer === 'berth'),
		);
	}
}
