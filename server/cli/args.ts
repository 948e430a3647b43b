import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_TIMER_DELAY_MS } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../shared/log';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The longest duration a seconds flag may give: what a timer can hold (2147483 s, 24.8 days). */
export const MAX_DURATION_SECONDS = Math.floor(MAX_TIMER_DELAY_MS / 1000);

/** node:util's parseArgs, strict, with its errors turned into usage errors that name the command. */
export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
	return parseCommandLine(command, argv, options, false).values;
}

/** parseFlags for a command that also takes operands (`berth ssh HOST`): flags and operands in any order. */
export function parseCommandLine<T extends Options>(
	command: string,
	argv: string[],
	options: T,
	allowPositionals = true,
) {
	try {
		return parseArgs({
			args: attachNegativeValues(argv, options),
			options,
			strict: true,
			allowPositionals,
		});
	} catch (error) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${command}: ${(error as Error).message} (see berth ${command} --help)`,
		);
	}
}

/**
 * parseArgs reads `--port -1` as two flags ("argument is ambiguous"): a value that looks like a
 * negative number is joined to its flag (`--port=-1`) so the flag's own check says what is wrong.
 */
export function attachNegativeValues(argv: readonly string[], options: Options): string[] {
	const takesValue = (arg: string): boolean => {
		// As parseArgs does: `-X` is the option whose short is X, else the option named X.
		const name = arg.startsWith('--')
			? arg.slice(2)
			: (Object.keys(options).find((key) => options[key]!.short === arg.slice(1)) ?? arg.slice(1));
		return options[name]?.type === 'string';
	};
	const out: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		const next = argv[i + 1];
		if (next !== undefined && /^-\d/.test(next) && /^(--[^=]+|-[^-])$/.test(arg) && takesValue(arg)) {
			out.push(arg.startsWith('--') ? `${arg}=${next}` : arg + next);
			i++;
		} else {
			out.push(arg);
			if (arg === '--') {
				out.push(...argv.slice(i + 1));
				break;
			}
		}
	}
	return out;
}

/**
 * A whole number of seconds, `min` to MAX_DURATION_SECONDS: a larger one would overflow the
 * timer it becomes (Node fires such a timer after 1 ms), so it is refused, naming the maximum.
 */
export function parseSecondsFlag(flag: string, value: string | undefined, fallback: number, min = 0): number {
	if (value === undefined) {
		return fallback;
	}
	const seconds = /^\d+$/.test(value) ? Number(value) : NaN;
	if (!Number.isSafeInteger(seconds) || seconds < min) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} ${JSON.stringify(value)} is not a whole number of seconds: use ${min} to ${MAX_DURATION_SECONDS} (default ${fallback})`,
		);
	}
	if (seconds > MAX_DURATION_SECONDS) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} ${value} is over the maximum of ${MAX_DURATION_SECONDS} seconds (24.8 days, the longest a timer can wait)`,
		);
	}
	return seconds;
}

/** Options shared by every command. */
export const COMMON_OPTIONS = {
	help: { type: 'boolean', short: 'h' },
	'log-format': { type: 'string' },
	'log-level': { type: 'string' },
} as const satisfies Options;

export function parsePortFlag(flag: string, value: string | undefined, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}
	const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
	if (!(port >= 0 && port <= 65535)) {
		throw new BerthError('BERTH_ERR_USAGE', `${flag} ${JSON.stringify(value)} is not a port: use 0 to 65535`);
	}
	return port;
}

export function parseChoice<T extends string>(
	flag: string,
	value: string | undefined,
	choices: readonly T[],
	fallback: T,
): T {
	if (value === undefined) {
		return fallback;
	}
	if (!(choices as readonly string[]).includes(value)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} ${JSON.stringify(value)} is not one of: ${choices.join(', ')}`,
		);
	}
	return value as T;
}

export function parseLogFlags(values: { 'log-format'?: string; 'log-level'?: string }): {
	format: LogFormat;
	level: LogLevel;
} {
	return {
		format: parseChoice('--log-format', values['log-format'], LOG_FORMATS, 'text'),
		level: parseChoice('--log-level', values['log-level'], LOG_LEVELS, 'info'),
	};
}
