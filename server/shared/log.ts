/**
 * The agent's and CLI's logger: one line per event on stderr, as text (`time level component:
 * message key=value…`) or as JSON lines (`--log-format json`, which the extension reads). Loggers
 * fork into components (`agent: session#3: …`), as chisel's do. Nothing here ever sees a
 * connection token: callers pass `tokenPrefix()` or `redactUrl()` output instead.
 */

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
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export function createLogger(options: LoggerOptions, component = ''): Logger {
	const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
	const now = options.now ?? (() => new Date());
	const minimum = LEVEL_RANK[options.level];
	const emit = (level: LogLevel, message: string, fields: LogFields = {}): void => {
		if (LEVEL_RANK[level] < minimum) {
			return;
		}
		const time = now().toISOString();
		if (options.format === 'json') {
			write(JSON.stringify({ time, level, component: component || undefined, message, ...fields }));
			return;
		}
		const prefix = component ? `${component}: ` : '';
		write(`${time} ${level.padEnd(5)} ${prefix}${message}${formatFields(fields)}`);
	};
	return {
		debug: (m, f) => emit('debug', m, f),
		info: (m, f) => emit('info', m, f),
		warn: (m, f) => emit('warn', m, f),
		error: (m, f) => emit('error', m, f),
		fork: (child) => createLogger(options, component ? `${component}: ${child}` : child),
	};
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

/** Query parameters whose values are secrets. */
const SECRET_QUERY_KEYS = ['tkn', 'token', 'connectionToken'];

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
