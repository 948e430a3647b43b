/** Tables for the terminal and for Markdown, and the cell formats every case shares. */
import type { Spread } from './stats';

export interface Table {
	readonly title: string;
	readonly headers: readonly string[];
	readonly rows: readonly (readonly string[])[];
	readonly notes: readonly string[];
	/** How many leading columns hold text (left-aligned); the rest are figures. Default 1. */
	readonly textColumns?: number;
}

/** One goal of the issue, judged for one Berth path on medians of this run. */
export interface GoalResult {
	readonly goal: string;
	readonly path: string;
	/** undefined: not measured (a case or its peer failed or was not run). */
	readonly met: boolean | undefined;
	readonly detail: string;
}

export const DASH = '—';

export function fixed(value: number | undefined, digits: number): string {
	return value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

/** "min / median / max", or the single value of a one-repetition run. */
export function cell(s: Spread | undefined, digits: number): string {
	if (s === undefined) {
		return DASH;
	}
	if (s.n === 1) {
		return fixed(s.median, digits);
	}
	return `${fixed(s.min, digits)} / ${fixed(s.median, digits)} / ${fixed(s.max, digits)}`;
}

export function ratio(a: Spread | undefined, b: Spread | undefined, digits = 2): string {
	if (a === undefined || b === undefined || b.median === 0) {
		return DASH;
	}
	return fixed(a.median / b.median, digits);
}

export function mark(met: boolean | undefined): string {
	return met === undefined ? 'not measured' : met ? 'met' : 'NOT met';
}

function width(text: string): number {
	return [...text].length;
}

export function renderText(table: Table): string {
	const widths = table.headers.map((h, i) =>
		Math.max(width(h), ...table.rows.map((row) => width(row[i] ?? ''))),
	);
	const textColumns = table.textColumns ?? 1;
	const line = (cells: readonly string[]): string =>
		cells
			.map((c, i) =>
				i < textColumns
					? c.padEnd(widths[i]! - width(c) + c.length)
					: c.padStart(widths[i]! - width(c) + c.length),
			)
			.join('  ')
			.trimEnd();
	const out = [table.title, line(table.headers), widths.map((w) => '-'.repeat(w)).join('  ')];
	for (const row of table.rows) {
		out.push(line(row));
	}
	for (const note of table.notes) {
		out.push(`  * ${note}`);
	}
	return out.join('\n');
}

export function renderMarkdown(table: Table): string {
	const escape = (c: string): string => c.replace(/\|/g, '\\|');
	const out = [
		`### ${table.title}`,
		'',
		`| ${table.headers.map(escape).join(' | ')} |`,
		`|${table.headers.map((_, i) => (i < (table.textColumns ?? 1) ? '---' : '---:')).join('|')}|`,
	];
	for (const row of table.rows) {
		out.push(`| ${row.map(escape).join(' | ')} |`);
	}
	if (table.notes.length > 0) {
		out.push('');
		for (const note of table.notes) {
			out.push(`- ${note}`);
		}
	}
	return out.join('\n');
}

export function goalsTable(goals: readonly GoalResult[]): Table {
	return {
		title:
			'Goals of issues 3, 7 and 9 (medians of this run; the peer is ssh -L with the default cipher, ssh -D for the proxy cases)',
		headers: ['goal', 'path', 'result', 'figures'],
		rows: goals.map((g) => [g.goal, g.path, mark(g.met), g.detail]),
		notes: [],
		textColumns: 4,
	};
}
