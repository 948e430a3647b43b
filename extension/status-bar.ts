import * as vscode from 'vscode';
import { Disposable } from '../protocol/lifecycle';
import type { StatusText } from './status-text';

/** Actions in the tunnel item's tooltip while the agent runs, as command links. */
const RUNNING_ACTIONS =
	'[$(copy) Copy URL](command:berth.copyAgentUrl) · [$(key) Copy Token](command:berth.copyAgentToken) · ' +
	'[$(debug-stop) Stop](command:berth.stopAgent) · [$(output) Show Log](command:berth.showLog)';
const IDLE_ACTIONS =
	'[$(play) Start](command:berth.startAgent) · [$(plug) Connect to Agent…](command:berth.connect) · ' +
	'[$(output) Show Log](command:berth.showLog)';

/**
 * Berth's two status bar items: tunnel access (click toggles it) and, while remote agents are
 * connected, their connection state (click shows the panel). Texts come from status-text.ts.
 */
export class StatusBar extends Disposable {
	private readonly tunnel = this._register(
		vscode.window.createStatusBarItem('berth.tunnelAccess', vscode.StatusBarAlignment.Left, 100),
	);
	private readonly agents = this._register(
		vscode.window.createStatusBarItem('berth.agents', vscode.StatusBarAlignment.Left, 99),
	);

	constructor() {
		super();
		this.tunnel.name = 'Berth Tunnel Access';
		this.tunnel.command = 'berth.toggleTunnelAccess';
		this.tunnel.show();
		this.agents.name = 'Berth Agents';
		this.agents.command = 'berth.showPanel';
	}

	showTunnel(status: StatusText, running: boolean): void {
		apply(this.tunnel, status, running ? RUNNING_ACTIONS : IDLE_ACTIONS);
	}

	showAgents(status: StatusText | undefined): void {
		if (!status) {
			this.agents.hide();
			return;
		}
		apply(
			this.agents,
			status,
			'[$(plug) Connect to Agent…](command:berth.connect) · [$(list-flat) Show Panel](command:berth.showPanel)',
		);
		this.agents.show();
	}
}

function apply(item: vscode.StatusBarItem, status: StatusText, actions: string): void {
	item.text = status.text;
	item.accessibilityInformation = { label: status.accessibilityLabel };
	const tooltip = new vscode.MarkdownString([...status.tooltip, '', actions].join('\n\n'), true);
	tooltip.isTrusted = true;
	item.tooltip = tooltip;
	item.backgroundColor =
		status.severity === 'error'
			? new vscode.ThemeColor('statusBarItem.errorBackground')
			: status.severity === 'warning'
				? new vscode.ThemeColor('statusBarItem.warningBackground')
				: undefined;
}
