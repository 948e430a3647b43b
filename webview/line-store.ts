/**
 * The table's lines by key, each built once for its key and updated in place; lines that are no
 * longer drawn are removed. A key never changes its kind of line.
 */

import type { AgentRow, FromWebview, PortRow } from '../protocol/webview';
import { AgentLine, EmptyLine, GroupLine, agentLineKey, emptyLineKey, groupLineKey } from './agent-lines';
import { PortLine } from './port-line';

/** Any line of the table. */
export type Line = PortLine | AgentLine | GroupLine | EmptyLine;

export class LineStore {
	private readonly lines = new Map<string, Line>();

	constructor(
		private readonly send: (message: FromWebview) => void,
		private readonly onToggle: (agentId: string) => void,
	) {}

	get(key: string | undefined): Line | undefined {
		return key === undefined ? undefined : this.lines.get(key);
	}

	/** The agent's header line, drawn with `agent`. */
	agent(agent: AgentRow): AgentLine {
		const line = this.lineOf(agentLineKey(agent.id), AgentLine, () => new AgentLine(agent, this.send));
		line.update(agent);
		return line;
	}

	/** The row's line, drawn with `row`. */
	port(row: PortRow): PortLine {
		const line = this.lineOf(row.key, PortLine, () => new PortLine(row, this.send));
		line.update(row);
		return line;
	}

	group(agentId: string): GroupLine {
		return this.lineOf(
			groupLineKey(agentId),
			GroupLine,
			() => new GroupLine(agentId, () => this.onToggle(agentId)),
		);
	}

	empty(agentId: string): EmptyLine {
		return this.lineOf(emptyLineKey(agentId), EmptyLine, () => new EmptyLine(agentId));
	}

	/** Removes every line whose element is not in `drawn`. */
	retain(drawn: ReadonlySet<HTMLTableRowElement>): void {
		for (const [key, line] of this.lines) {
			if (!drawn.has(line.element)) {
				line.element.remove();
				this.lines.delete(key);
			}
		}
	}

	/** The line of `key` if it is of that class, else a new one. */
	private lineOf<T extends Line>(key: string, type: new (...args: never[]) => T, create: () => T): T {
		const existing = this.lines.get(key);
		if (existing instanceof type) {
			return existing;
		}
		existing?.element.remove();
		const line = create();
		this.lines.set(key, line);
		return line;
	}
}
