import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { Disposable, DisposableStore } from '../../protocol/lifecycle';
import {
	PORTS_VIEW_ID,
	parseFromWebview,
	type FromWebview,
	type PortsViewState,
	type ToWebview,
} from '../../protocol/webview';
import type { ExtensionLogger } from '../logger';
import { renderPortsHtml } from './ports-html';
import { diffPortsState } from './ports-diff';
import type { PortsPresenter } from './ports-presenter';

/** Bytes of randomness in a CSP nonce. */
const NONCE_BYTES = 18;

/**
 * The Remote Port Forwarding panel (a webview view in the bottom panel). The webview says `ready`,
 * gets a snapshot, then patches; nothing is posted before `ready`. Its messages are validated by
 * protocol/webview.ts and handed to `onMessage`. `reveal` shows the panel with a row focused.
 */
export class PortsViewProvider extends Disposable implements vscode.WebviewViewProvider {
	static readonly viewType = PORTS_VIEW_ID;
	private view: vscode.WebviewView | undefined;
	private viewStore: DisposableStore | undefined;
	private ready = false;
	private sent: PortsViewState | undefined;
	/** A row to focus once the webview is ready (reveal before the view was resolved). */
	private pendingReveal: string | undefined;

	constructor(
		private readonly extensionUri: vscode.Uri,
		private readonly presenter: PortsPresenter,
		private readonly onMessage: (message: FromWebview) => void,
		private readonly log: ExtensionLogger,
	) {
		super();
		this._register(presenter.onDidChange((state) => this.push(state)));
		this._register({ dispose: () => this.viewStore?.dispose() });
	}

	resolveWebviewView(view: vscode.WebviewView): void {
		this.viewStore?.dispose();
		const store = (this.viewStore = new DisposableStore());
		this.view = view;
		this.ready = false;
		this.sent = undefined;
		const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
		view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
		view.webview.html = renderPortsHtml({
			cspSource: view.webview.cspSource,
			nonce: randomBytes(NONCE_BYTES).toString('base64'),
			scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
			styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
		});
		store.add(view.webview.onDidReceiveMessage((value: unknown) => this.receive(value)));
		// A hidden webview view loses its page (no retainContextWhenHidden) and drops messages: a
		// reveal waits for the `ready` its new page says when shown again.
		store.add(
			view.onDidChangeVisibility(() => {
				if (!view.visible) {
					this.ready = false;
				}
			}),
		);
		store.add(
			view.onDidDispose(() => {
				if (this.view === view) {
					this.view = undefined;
					this.ready = false;
				}
				store.dispose();
			}),
		);
	}

	/**
	 * Shows the panel and moves the keyboard focus to the row `rowKey` (`rowKeyOf`), now or as
	 * soon as the row is drawn: for "Port is already forwarded" and the first-failure toast.
	 */
	reveal(rowKey: string): void {
		this.pendingReveal = rowKey;
		if (this.view) {
			this.view.show(false);
			this.flushReveal();
		} else {
			// Resolving the view runs resolveWebviewView; the reveal follows the webview's `ready`.
			void vscode.commands.executeCommand(`${PORTS_VIEW_ID}.focus`);
		}
	}

	private flushReveal(): void {
		if (this.view && this.ready && this.pendingReveal !== undefined) {
			const message: ToWebview = { type: 'reveal', key: this.pendingReveal };
			this.pendingReveal = undefined;
			void this.view.webview.postMessage(message);
		}
	}

	private receive(value: unknown): void {
		const message = parseFromWebview(value);
		if (!message) {
			this.log.warn('dropped an invalid message from the panel');
			return;
		}
		if (message.type === 'ready') {
			this.ready = true;
			this.sent = undefined;
			this.push(this.presenter.state());
			this.flushReveal();
			return;
		}
		this.onMessage(message);
	}

	private push(state: PortsViewState): void {
		if (!this.view || !this.ready) {
			return;
		}
		const message: ToWebview | undefined = diffPortsState(this.sent, state);
		if (message) {
			this.sent = state;
			void this.view.webview.postMessage(message);
		}
	}
}
