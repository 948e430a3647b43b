import * as vscode from 'vscode';
import { Disposable } from '../protocol/lifecycle';
import type { StatusText } from './status-text';

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

	showTunnel(status: StatusText): void {
		apply(this.tunnel, status);
	}

	showAgents(status: StatusText | undefined): void {
		if (!status) {
			this.agents.hide();
			return;
		}
		apply(this.agents, status);
		this.agents.show();
	}
}

function apply(item: vscode.StatusBarItem, status: StatusText): void {
	item.text = status.text;
	item.accessibilityInformation = { label: status.accessibilityLabel };
	const actions = status.actions.map((a) => `[${a.label}](command:${a.command})`).join(' · ');
	const tooltip = new vscode.MarkdownString([...status.tooltip, actions].join('\n\n'), true);
	tooltip.isTrusted = true;
	item.tooltip = tooltip;
	item.backgroundColor =
		status.severity === 'error'
			? new vscode.ThemeColor('statusBarItem.errorBackground')
			: status.severity === 'warning'
				? new vscode.ThemeColor('statusBarItem.warningBackground')
				: undefined;
}
