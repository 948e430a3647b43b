import * as vscode from 'vscode';
import { createSinkLogger, type ExtensionLogger } from './logger';

/**
 * The one "Berth" LogOutputChannel: the extension's own events and the agent's output, each line
 * prefixed with its component (`agent: session#3: …`). Known secrets are masked before writing.
 */
export function createLog(secrets: () => readonly string[]): {
	channel: vscode.LogOutputChannel;
	log: ExtensionLogger;
} {
	const channel = vscode.window.createOutputChannel('Berth', { log: true });
	const log = createSinkLogger((level, text) => channel[level](text), secrets);
	return { channel, log };
}
