import * as vscode from 'vscode';

/** Activates the extension: for now one command that shows the bundled agent's version. */
export function activate(context: vscode.ExtensionContext): void {
	context.subscriptions.push(
		vscode.commands.registerCommand('berth.showVersion', () => {
			const version = (context.extension.packageJSON as { version?: string }).version ?? 'unknown';
			void vscode.window.showInformationMessage(`Berth ${version}`);
		}),
	);
}

export function deactivate(): void {
	// Nothing to stop yet.
}
