import * as vscode from 'vscode';

/** Commands the notifications run. */
const SHOW_LOG_COMMAND = 'berth.showLog';

/**
 * Shows an error that says what failed, with "Show Log" and, when `retry` is given, "Retry".
 * Resolves once the user picked an action (or dismissed it); the action has run by then.
 */
export async function showError(message: string, retry?: () => unknown): Promise<void> {
	const actions = retry ? ['Retry', 'Show Log'] : ['Show Log'];
	const choice = await vscode.window.showErrorMessage(message, ...actions);
	if (choice === 'Show Log') {
		await vscode.commands.executeCommand(SHOW_LOG_COMMAND);
	} else if (choice === 'Retry' && retry) {
		await retry();
	}
}

/** Auto-forward notes: at most one every 5 s (VS Code's pace). */
const AUTO_FORWARD_NOTE_INTERVAL_MS = 5_000;

/** Shows "your application is available" notes, dropping those that come too fast. */
export class AutoForwardNotifier {
	private lastShownAt = -Infinity;

	notify(message: string, url: string): void {
		const now = Date.now();
		if (now - this.lastShownAt < AUTO_FORWARD_NOTE_INTERVAL_MS) {
			return;
		}
		this.lastShownAt = now;
		void vscode.window.showInformationMessage(message, 'Open in Browser').then((choice) => {
			if (choice === 'Open in Browser') {
				void openInBrowser(url);
			}
		});
	}
}

/** Opens a local URL in the user's browser (through VS Code's port mapping in a web workbench). */
export async function openInBrowser(url: string): Promise<void> {
	const external = await vscode.env.asExternalUri(vscode.Uri.parse(url));
	await vscode.env.openExternal(external);
}
