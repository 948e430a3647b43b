import * as vscode from 'vscode';
import type { IDisposable } from '../protocol/lifecycle';
import type { Timers } from '../protocol/timers';
import { createCoalescingSink, createSinkLogger, type ExtensionLogger } from './logger';

/**
 * The one "Berth" LogOutputChannel: the extension's own events and the agent's output, each line
 * prefixed with its component (`agent: session#3: …`). Known secrets are masked before writing,
 * and a line repeated in a storm is written once per 10 s with a count (`… 1,204 more in 10 s`).
 */
export function createLog(
	secrets: () => readonly string[],
	timers: Timers,
): {
	channel: vscode.LogOutputChannel;
	log: ExtensionLogger;
	coalescer: IDisposable;
} {
	const channel = vscode.window.createOutputChannel('Berth', { log: true });
	const sink = createCoalescingSink((level, text) => channel[level](text), timers);
	const log = createSinkLogger(sink, secrets);
	return { channel, log, coalescer: sink };
}
