import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BerthError } from '../../protocol/errors';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../shared/log';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util's parseArgs, strict, with its errors turned into usage errors that name the command. */
export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
	try {
		return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
	} catch (error) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${command}: ${(error as Error).message} (see berth ${command} --help)`,
		);
	}
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
