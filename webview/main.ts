// The Remote Port Forwarding panel's script: restores the last state at once, says `ready`, then
// applies the host's snapshots, patches and reveals. Messages are typed by protocol/webview.ts.
import type { FromWebview, ToWebview } from '../protocol/webview';
import './ports.css';
import { PortsTable } from './ports-table';
import { applyToWebview, restoreWebviewState, type WebviewState } from './state';

interface VsCodeApi {
	postMessage(message: FromWebview): void;
	getState(): unknown;
	setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

function main(): void {
	const vscode = acquireVsCodeApi();
	let state = restoreWebviewState(vscode.getState());
	const root = document.getElementById('berth-ports');
	if (!root) {
		return;
	}
	const save = (next: WebviewState): void => {
		state = next;
		vscode.setState(state);
	};
	const table = new PortsTable(
		root,
		{
			send: (message) => vscode.postMessage(message),
			onActiveKey: (activeKey) => save({ ...state, activeKey }),
			onCollapsed: (collapsed) => save({ ...state, collapsed }),
		},
		state,
	);
	// The panel got the focus (opened, or shown by a command): the keyboard lands on a row, not on <body>.
	const landFocus = (): void => {
		if (document.hasFocus() && (document.activeElement === document.body || !document.activeElement)) {
			table.focusDefault();
		}
	};
	window.addEventListener('focus', landFocus);
	if (state.view) {
		table.render(state.view);
	}
	window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
		const message = event.data;
		const view = applyToWebview(state.view, message);
		if (message.type === 'reveal') {
			table.reveal(message.key);
			return;
		}
		if (view) {
			save({ ...state, view });
			table.render(view);
			document.body.dataset['berth'] = 'ready';
			landFocus();
		}
	});
	vscode.postMessage({ type: 'ready' });
}

main();
