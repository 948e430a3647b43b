import * as vscode from 'vscode';
import type { AskpassQuestion } from './askpass-server';
import { describeAskpassPrompt } from './askpass-text';

/**
 * Asks ssh's question in VS Code (the askpass server's handler): an input box, without echo for a
 * passphrase or password; a yes/no notification for a confirmation; an information message for a
 * note (ssh needs no answer to it). The question closes when ssh no longer waits for it.
 * Resolves with the answer ('' for yes), or undefined when the user cancelled.
 */
export async function askInVsCode(
	question: AskpassQuestion,
	signal: AbortSignal,
): Promise<string | undefined> {
	const view = describeAskpassPrompt(question.prompt, question.mode, question.host);
	switch (view.kind) {
		case 'notify':
			void vscode.window.showInformationMessage(`${view.title}: ${view.prompt}`);
			return '';
		case 'confirm': {
			const choice = await vscode.window.showWarningMessage(`${view.title}: ${view.prompt}`, 'Yes', 'No');
			return choice === 'Yes' && !signal.aborted ? '' : undefined;
		}
		case 'secret':
		case 'text': {
			const cancel = new vscode.CancellationTokenSource();
			const onAbort = (): void => cancel.cancel();
			signal.addEventListener('abort', onAbort);
			try {
				return await vscode.window.showInputBox(
					{
						title: view.title,
						prompt: view.prompt,
						password: view.kind === 'secret',
						ignoreFocusOut: true,
						...(view.placeholder !== undefined ? { placeHolder: view.placeholder } : {}),
					},
					cancel.token,
				);
			} finally {
				signal.removeEventListener('abort', onAbort);
				cancel.dispose();
			}
		}
	}
}
