/**
 * Reads the agent's stderr (`--log-format json`: one JSON object a line) for the "Berth" log and
 * for the status bar's client count. Pure, so it is unit-tested with recorded lines.
 */

import { isObject, isString } from '../../protocol/guards';
import type { LogLevel } from '../logger';

/** One agent log line, parsed. */
export interface AgentLogRecord {
	readonly level: LogLevel;
	/** `session#3`, `agent`, … (may be empty). */
	readonly component: string;
	readonly message: string;
	/** The remaining fields, as the agent wrote them. */
	readonly fields: Readonly<Record<string, unknown>>;
}

/** Longest line parsed; longer ones are logged as they are. */
const MAX_LINE_CHARS = 64 * 1024;
const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' };

/** Parses one JSON log line; undefined if it is not one (then it is logged as plain text). */
export function parseAgentLogLine(line: string): AgentLogRecord | undefined {
	if (line.length > MAX_LINE_CHARS || !line.startsWith('{')) {
		return undefined;
	}
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return undefined;
	}
	if (!isObject(value) || !isString(value['message'])) {
		return undefined;
	}
	const { level, component, message, ...fields } = value;
	delete fields['time'];
	return {
		level: (isString(level) && LEVELS[level]) || 'info',
		component: isString(component) ? component : '',
		message: message as string,
		fields,
	};
}

/** The agent's own top component, which the extension's `agent: ` prefix already says. */
const AGENT_COMPONENT = /^agent(?:: |$)/;

/**
 * The record as one log line: `component: message key=value …` (the channel adds time and
 * level). The agent's top component is left out: the line goes to a logger forked as `agent`,
 * and "agent: agent: …" said it twice.
 */
export function formatAgentLogRecord(record: AgentLogRecord): string {
	const component = record.component.replace(AGENT_COMPONENT, '');
	const prefix = component ? `${component}: ` : '';
	const fields = Object.entries(record.fields)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => ` ${k}=${typeof v === 'string' && /^[\w.:/@[\]#-]+$/.test(v) ? v : JSON.stringify(v)}`)
		.join('');
	return `${prefix}${record.message}${fields}`;
}
