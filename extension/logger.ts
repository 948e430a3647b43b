/**
 * The extension's logger interface, with no `vscode` in it, so the agent process and connection
 * code can be tested with a fake. extension/log.ts puts it on the "Berth" LogOutputChannel.
 */

import type { IDisposable } from '../protocol/lifecycle';
import { formatRepeatSummary, LOG_COALESCE_WINDOW_MS, LogCoalescer } from '../protocol/log-coalescer';
import type { Timers } from '../protocol/timers';

/** The LogOutputChannel's levels. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** What every extension module logs through; `fork` adds a component prefix. */
export interface ExtensionLogger {
	trace(message: string): void;
	debug(message: string): void;
	info(message: string): void;
	warn(message: string): void;
	error(message: string): void;
	/** A child whose lines start with `component: ` (chained: `agent: session#3: …`). */
	fork(component: string): ExtensionLogger;
}

/** A logger that drops everything (tests). */
export function createNullLogger(): ExtensionLogger {
	const logger: ExtensionLogger = {
		trace: () => undefined,
		debug: () => undefined,
		info: () => undefined,
		warn: () => undefined,
		error: () => undefined,
		fork: () => logger,
	};
	return logger;
}

/** Writes `text` at `level`; used by the channel adapter and by fakes. */
export type LogSink = (level: LogLevel, text: string) => void;

/** A logger over a sink: every line is prefixed with its component chain, and secrets are masked. */
export function createSinkLogger(
	sink: LogSink,
	secrets: () => readonly string[],
	component = '',
): ExtensionLogger {
	const emit = (level: LogLevel) => (message: string) =>
		sink(level, redactSecrets(component ? `${component}: ${message}` : message, secrets()));
	return {
		trace: emit('trace'),
		debug: emit('debug'),
		info: emit('info'),
		warn: emit('warn'),
		error: emit('error'),
		fork: (child) => createSinkLogger(sink, secrets, component ? `${component}: ${child}` : child),
	};
}

/** Shortest secret worth masking: shorter strings would mask ordinary words. */
const MIN_SECRET_CHARS = 8;

/** `text` with every occurrence of each secret replaced by `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
	let out = text;
	for (const secret of secrets) {
		if (secret.length >= MIN_SECRET_CHARS) {
			out = out.split(secret).join('***');
		}
	}
	return out.replace(/([?&](?:tkn|token|connectionToken)=)[^&\s]+/g, '$1***');
}

/**
 * A sink in front of `sink` that writes a repeated line once, then when the window ends
 * `<the line> (… 1,204 more in 10 s)` (protocol/log-coalescer.ts, as the CLI's log). What is
 * the extension's own is the key: lines that differ only by a session number (`session#41`) or
 * an id count as repeats, so a storm of "session#N: the session closed" is one line. Disposing
 * writes what is pending.
 */
export function createCoalescingSink(
	sink: LogSink,
	timers: Timers,
	windowMs = LOG_COALESCE_WINDOW_MS,
): LogSink & IDisposable {
	const coalescer = new LogCoalescer<{ readonly level: LogLevel; readonly text: string }>({
		timers,
		windowMs,
		write: ({ level, text }) => sink(level, text),
		summarize: ({ level, text }, count, window) => ({
			level,
			text: `${text} (${formatRepeatSummary(count, window)})`,
		}),
	});
	const coalescing = (level: LogLevel, text: string): void =>
		coalescer.offer(`${level} ${coalesceKey(text)}`, { level, text });
	return Object.assign(coalescing, { dispose: () => coalescer.dispose() });
}

/** What makes two lines "the same": session numbers and ids masked. */
function coalesceKey(text: string): string {
	return text
		.replace(/#\d+/g, '#N')
		.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID');
}
