import * as vscode from 'vscode';
import type { ErrorAction } from './error-text';
import type { AutoForwardNote } from './ports/forwarding';

/** Commands the notifications run. */
const SHOW_LOG_COMMAND = 'berth.showLog';
const SHOW_PANEL_COMMAND = 'berth.showPanel';

/** The buttons of an error, by what can help (error-text.ts decides), besides Show Log. */
const ACTION_LABELS: Readonly<Record<ErrorAction, string | undefined>> = {
	enterToken: 'Enter Token...',
	retry: 'Retry',
	connect: 'Connect to Agent...',
	// Callers with an agent offer both ways to a new token instead (showSignInNeeded).
	signIn: 'Connect with Init URL...',
	trustCa: 'Set CA File...',
	none: undefined,
};

/**
 * Shows an error that says what failed, with "Show Log" and, when `act` is given, the button for
 * `action` ("Retry" by default). Resolves once the user picked one (or dismissed it); the action
 * has run by then.
 */
export async function showError(
	message: string,
	act?: () => unknown,
	action: ErrorAction = 'retry',
): Promise<void> {
	const label = act ? ACTION_LABELS[action] : undefined;
	const choice = await vscode.window.showErrorMessage(message, ...(label ? [label] : []), 'Show Log');
	if (choice === 'Show Log') {
		await vscode.commands.executeCommand(SHOW_LOG_COMMAND);
	} else if (choice !== undefined && choice === label) {
		await act?.();
	}
}

/** The two ways to a new token, each a command that takes the agent's id. */
const SIGN_IN_CHOICES: readonly { readonly label: string; readonly command: string }[] = [
	{ label: 'Sign In to Agent...', command: 'berth.signIn' },
	{ label: 'Connect with Init URL...', command: 'berth.connectWithInitUrl' },
];

/**
 * An error after which only a new token helps (revoked, expired, refused, not the pinned agent):
 * offers both ways to one for `agentId`, signing in in the browser (the device flow) and an init
 * URL from the agent's owner, besides Show Log. Resolves once the chosen command has run.
 */
export async function showSignInNeeded(message: string, agentId: string): Promise<void> {
	const choice = await vscode.window.showErrorMessage(
		message,
		...SIGN_IN_CHOICES.map((c) => c.label),
		'Show Log',
	);
	if (choice === 'Show Log') {
		await vscode.commands.executeCommand(SHOW_LOG_COMMAND);
		return;
	}
	const chosen = SIGN_IN_CHOICES.find((c) => c.label === choice);
	if (chosen) {
		await vscode.commands.executeCommand(chosen.command, agentId);
	}
}

/** Auto-forward notes: at most one every 5 s (VS Code's pace). */
const AUTO_FORWARD_NOTE_INTERVAL_MS = 5_000;

/**
 * Shows "Your application running on port N is available", as VS Code's Ports view does: a link
 * to all forwarded ports (the panel), Open in Browser and Preview in Editor. Notes that come too
 * fast are dropped.
 */
export class AutoForwardNotifier {
	private lastShownAt = -Infinity;

	notify(note: AutoForwardNote): void {
		const now = Date.now();
		if (now - this.lastShownAt < AUTO_FORWARD_NOTE_INTERVAL_MS) {
			return;
		}
		this.lastShownAt = now;
		const message =
			`Your application running on ${note.name} is available. ` +
			`[See all forwarded ports](command:${SHOW_PANEL_COMMAND})`;
		void vscode.window
			.showInformationMessage(message, 'Open in Browser', 'Preview in Editor')
			.then((choice) => {
				if (choice === 'Open in Browser') {
					void openInBrowser(note.url);
				} else if (choice === 'Preview in Editor') {
					void previewInEditor(note.url);
				}
			});
	}
}

/** A connection through a forward failed (the first time for that forward). */
export function notifyConnectionFailed(message: string): void {
	void vscode.window.showWarningMessage(message, 'Show Forwarded Ports', 'Show Log').then((choice) => {
		if (choice) {
			void vscode.commands.executeCommand(choice === 'Show Log' ? SHOW_LOG_COMMAND : SHOW_PANEL_COMMAND);
		}
	});
}

/** Opens an address that works from where the user is (already through asExternalUri) in their browser. */
export async function openInBrowser(externalUrl: string): Promise<void> {
	await vscode.env.openExternal(vscode.Uri.parse(externalUrl));
}

/** Opens it in VS Code's Simple Browser, beside the editor; the browser when that is not there. */
export async function previewInEditor(externalUrl: string): Promise<void> {
	try {
		await vscode.commands.executeCommand('simpleBrowser.show', externalUrl);
	} catch {
		await openInBrowser(externalUrl);
	}
}
