/**
 * The agent's and CLI's logger: one line per event on stderr, as text (`time level component:
 * message key=value…`) or as JSON lines (`--log-format json`, which the extension reads). Loggers
 * fork into components (`agent: session#3: …`), as chisel's do. Nothing here ever sees a
 * connection token: callers pass `tokenPrefix()` or `redactUrl()` output instead.
 */

import type { IDisposable } from '../../protocol/lifecycle';
import { formatRepeatSummary, LogCoalescer } from '../../protocol/log-coalescer';
import type { Timers } from '../../protocol/timers';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
	debug(message: string, fields?: LogFields): void;
	info(message: string, fields?: LogFields): void;
	warn(message: string, fields?: LogFields): void;
	error(message: string, fields?: LogFields): void;
	/** A child logger whose lines are prefixed with `component`. */
	fork(component: string): Logger;
}

export interface LoggerOptions {
	readonly format: LogFormat;
	readonly level: LogLevel;
	/** Where finished lines go (stderr by default). */
	readonly write?: (line: string) => void;
	readonly now?: () => Date;
	/**
	 * Coalesces repeated lines when given: the same level, component, message and fields again
	 * within `coalesceWindowMs` (default 10 s) are counted, and summarised once when the window
	 * ends ("… 1,204 more in 10 s"). A forward that loops, or a target that refuses every
	 * connection, then costs the log two lines per window, not one per connection.
	 */
	readonly timers?: Timers;
	readonly coalesceWindowMs?: number;
}

/** The logger a command creates: dispose it last, to write the summaries still pending. */
export interface RootLogger extends Logger, IDisposable {}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** One line before it is formatted: what the coalescer compares and summarises. */
interface LogRecord {
	readonly level: LogLevel;
	readonly component: string;
	readonly message: string;
	readonly fields: LogFields;
	/** How many more identical lines this one stands for (a summary), else absent. */
	readonly repeated?: number;
}

export function createLogger(options: LoggerOptions): RootLogger {
	const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
	const now = options.now ?? (() => new Date());
	const minimum = LEVEL_RANK[options.level];
	const format = (record: LogRecord): string => formatRecord(options.format, now().toISOString(), record);
	const coalescer = options.timers
		? new LogCoalescer<LogRecord>({
				timers: options.timers,
				...(options.coalesceWindowMs !== undefined ? { windowMs: options.coalesceWindowMs } : {}),
				write: (record) => write(format(record)),
				summarize: (record, repeated, windowMs) => ({
					...record,
					message: `${record.message} (${formatRepeatSummary(repeated, windowMs)})`,
					repeated,
				}),
			})
		: undefined;
	const emit = (record: LogRecord): void => {
		if (LEVEL_RANK[record.level] < minimum) {
			return;
		}
		if (coalescer) {
			coalescer.offer(
				JSON.stringify([record.level, record.component, record.message, record.fields]),
				record,
			);
		} else {
			write(format(record));
		}
	};
	const forkOf = (component: string): Logger => ({
		debug: (message, fields = {}) => emit({ level: 'debug', component, message, fields }),
		info: (message, fields = {}) => emit({ level: 'info', component, message, fields }),
		warn: (message, fields = {}) => emit({ level: 'warn', component, message, fields }),
		error: (message, fields = {}) => emit({ level: 'error', component, message, fields }),
		fork: (child) => forkOf(component ? `${component}: ${child}` : child),
	});
	return { ...forkOf(''), dispose: () => coalescer?.dispose() };
}

function formatRecord(format: LogFormat, time: string, record: LogRecord): string {
	const { level, component, message, fields, repeated } = record;
	if (format === 'json') {
		return JSON.stringify({
			time,
			level,
			component: component || undefined,
			message,
			...fields,
			...(repeated !== undefined ? { repeated } : {}),
		});
	}
	const prefix = component ? `${component}: ` : '';
	return `${time} ${level.padEnd(5)} ${prefix}${message}${formatFields(fields)}`;
}

/** A logger that drops everything (tests, library users who pass none). */
export function createNullLogger(): Logger {
	const logger: Logger = {
		debug: () => undefined,
		info: () => undefined,
		warn: () => undefined,
		error: () => undefined,
		fork: () => logger,
	};
	return logger;
}

function formatFields(fields: LogFields): string {
	let out = '';
	for (const [key, value] of Object.entries(fields)) {
		if (value === undefined) {
			continue;
		}
		const text = String(value);
		out += ` ${key}=${/^[\w.:/@[\]-]+$/.test(text) ? text : JSON.stringify(text)}`;
	}
	return out;
}

/** The path of init URLs, whose rest is a token (`/p/<base64url>`). */
const INIT_PATH = '/p/';

/**
 * Query parameters whose values are secrets: tokens, an OAuth authorization code and its state
 * (/auth/callback), a device's user code (/auth/device?code=).
 */
const SECRET_QUERY_KEYS = ['tkn', 'token', 'connectionToken', 'code', 'state'];

/** The URL with every secret query value replaced by `***`, for logs and messages. */
export function redactUrl(url: string): string {
	try {
		const parsed = new URL(url, 'http://redacted.invalid');
		let changed = false;
		for (const key of SECRET_QUERY_KEYS) {
			if (parsed.searchParams.has(key)) {
				parsed.searchParams.set(key, '***');
				changed = true;
			}
		}
		if (parsed.password) {
			parsed.password = '***';
			changed = true;
		}
		if (parsed.pathname.startsWith(INIT_PATH)) {
			// An init URL's path is its token.
			parsed.pathname = `${INIT_PATH}***`;
			changed = true;
		}
		if (!changed) {
			return url;
		}
		return url.startsWith('/') ? parsed.pathname + parsed.search : parsed.toString();
	} catch {
		return '(unparsable url)';
	}
}

/** The first characters of an identifier (a reconnection token), enough to follow it in logs. */
export function tokenPrefix(token: string): string {
	return token.slice(0, 8);
}
