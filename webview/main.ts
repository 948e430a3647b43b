// The Remote Port Forwarding panel's script: restores the last state at once, says `ready`, then
// applies the host's snapshot and patches. Messages are typed by protocol/webview.ts.
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
		(message) => vscode.postMessage(message),
		(activeKey) => save({ ...state, activeKey }),
	);
	if (state.view) {
		table.render(state.view, state.activeKey);
	}
	window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
		const view = applyToWebview(state.view, event.data);
		if (view) {
			save({ ...state, view });
			table.render(view);
			document.body.dataset['berth'] = 'ready';
		}
	});
	vscode.postMessage({ type: 'ready' });
}

main();
