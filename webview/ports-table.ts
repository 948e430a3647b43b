/**
 * The panel's DOM: the notice, the welcome view (no agent yet), and the table, drawn from
 * PortsViewState and updated in place. Lines are keyed; each agent's header comes first, then its
 * forwards, then its collapsible "Detected Ports". The table is one tab stop with roving focus
 * (roving.ts) and the row keys of row-actions.ts; the focus stays on its line, or the nearest
 * surviving one, across updates.
 */

import type { FromWebview, PortsViewState } from '../protocol/webview';
import {
	AgentLine,
	GroupLine,
	agentLineKey,
	emptyLineKey,
	groupLineKey,
	type EmptyLine,
} from './agent-lines';
import { COLUMNS } from './columns';
import { element, openContextMenu, setHidden } from './dom';
import { LineStore, type Line } from './line-store';
import { PortLine } from './port-line';
import { keyAction, type KeyAction } from './row-actions';
import { keepFocus, moveFocus } from './roving';
import { withCollapsed } from './state';
import { Welcome } from './welcome';

/** What the table tells its owner (main.ts keeps it with setState). */
export interface TableHost {
	send(message: FromWebview): void;
	onActiveKey(key: string): void;
	onCollapsed(agentIds: readonly string[]): void;
}

/** The panel's DOM. */
export class PortsTable {
	private readonly notice: HTMLParagraphElement;
	private readonly welcome: Welcome;
	private readonly table: HTMLTableElement;
	private readonly body: HTMLTableSectionElement;
	private readonly lines: LineStore;
	/** Focusable lines' keys, in the order drawn. */
	private order: string[] = [];
	private activeKey: string | undefined;
	/** A line to focus as soon as it is drawn (`reveal` before the row arrived). */
	private pendingReveal: string | undefined;
	/** Agents whose detected ports are hidden. */
	private collapsed: ReadonlySet<string>;
	/** The last view drawn (a collapse redraws it). */
	private view: PortsViewState | undefined;

	constructor(
		root: HTMLElement,
		private readonly host: TableHost,
		initial: { activeKey?: string; collapsed?: readonly string[] },
	) {
		this.activeKey = initial.activeKey;
		this.collapsed = new Set(initial.collapsed);
		this.lines = new LineStore(host.send, (agentId) => this.toggle(agentId));
		this.notice = element('p', { className: 'notice', role: 'status' });
		this.welcome = new Welcome(host.send);
		this.table = element('table', { role: 'treegrid', ariaLabel: 'Forwarded and detected ports' });
		const head = this.table.createTHead().insertRow();
		for (const column of COLUMNS) {
			const th = element('th', {
				className: `c-${column.id}`,
				role: 'columnheader',
				textContent: column.name,
			});
			th.scope = 'col';
			th.title = column.title;
			head.append(th);
		}
		this.body = this.table.createTBody();
		this.body.addEventListener('keydown', (e) => this.onKey(e));
		this.body.addEventListener('focusin', (e) => {
			const key = (e.target as HTMLElement).closest('tr')?.dataset['key'];
			if (key !== undefined && this.order.includes(key)) {
				this.setActive(key);
			}
		});
		root.replaceChildren(this.notice, this.welcome.element, this.table);
	}

	render(view: PortsViewState): void {
		this.view = view;
		setHidden(this.notice, !view.notice);
		this.notice.textContent = view.notice ?? '';
		const empty = view.agents.length === 0;
		setHidden(this.welcome.element, !empty);
		setHidden(this.table, empty);
		const hadFocus = this.body.contains(document.activeElement);
		this.expandForReveal(view);
		const previous = this.order;
		const { elements, order } = this.draw(view);
		this.place(elements);
		this.order = order;
		const revealed = this.pendingReveal !== undefined && order.includes(this.pendingReveal);
		// Nothing focused yet: the first port, else the first line (an agent with nothing forwarded).
		const first = order.find((k) => this.lines.get(k) instanceof PortLine) ?? order[0];
		this.setActive(revealed ? this.pendingReveal : keepFocus(previous, order, this.activeKey ?? first));
		if (revealed) {
			this.pendingReveal = undefined;
			this.focusActive();
		} else if (hadFocus && !this.body.contains(document.activeElement)) {
			this.focusActive(true);
		}
	}

	/** Focuses the line `key` now, or as soon as it is drawn. */
	reveal(key: string): void {
		this.pendingReveal = key;
		if (this.view) {
			this.render(this.view);
		}
	}

	/** Where the keyboard lands when the panel gets the focus: the active line, or the welcome's first button. */
	focusDefault(): void {
		if (this.table.hidden) {
			this.welcome.focus();
		} else {
			this.focusActive();
		}
	}

	private draw(view: PortsViewState): { elements: HTMLTableRowElement[]; order: string[] } {
		const elements: HTMLTableRowElement[] = [];
		const order: string[] = [];
		const use = (key: string, line: Line, focusable = true): void => {
			elements.push(line.element);
			if (focusable) {
				order.push(key);
			}
		};
		for (const agent of view.agents) {
			use(agentLineKey(agent.id), this.lines.agent(agent));
			const rows = view.rows.filter((r) => r.agentId === agent.id);
			const forwards = rows.filter((r) => r.kind !== 'detected');
			const detected = rows.filter((r) => r.kind === 'detected');
			forwards.forEach((row) => use(row.key, this.lines.port(row)));
			if (forwards.length === 0) {
				use(emptyLineKey(agent.id), this.lines.empty(agent.id), false);
			}
			if (detected.length > 0) {
				const expanded = !this.collapsed.has(agent.id);
				const group = this.lines.group(agent.id);
				group.update(detected.length, expanded);
				use(groupLineKey(agent.id), group);
				if (expanded) {
					detected.forEach((row) => use(row.key, this.lines.port(row)));
				}
			}
		}
		this.lines.retain(new Set(elements));
		return { elements, order };
	}

	/** Puts the lines in order, moving only those out of place (moving a focused line would blur it). */
	private place(elements: readonly HTMLTableRowElement[]): void {
		let cursor = this.body.firstElementChild;
		for (const el of elements) {
			if (el === cursor) {
				cursor = cursor.nextElementSibling;
			} else {
				this.body.insertBefore(el, cursor);
			}
		}
	}

	private setActive(key: string | undefined): void {
		if (key === this.activeKey && this.lineElement(key)?.tabIndex === 0) {
			return;
		}
		const previous = this.lineElement(this.activeKey);
		if (previous) {
			previous.tabIndex = -1;
		}
		const next = this.lineElement(key);
		if (next) {
			next.tabIndex = 0;
		}
		if (key !== undefined && key !== this.activeKey) {
			this.activeKey = key;
			this.host.onActiveKey(key);
		}
	}

	private focusActive(preventScroll = false): void {
		const el = this.lineElement(this.activeKey) ?? this.lineElement(this.order[0]);
		el?.focus({ preventScroll });
		if (!preventScroll) {
			el?.scrollIntoView({ block: 'nearest' });
		}
	}

	private lineElement(key: string | undefined): HTMLTableRowElement | undefined {
		return this.lines.get(key)?.element;
	}

	private toggle(agentId: string, expand?: boolean): void {
		const collapse = expand === undefined ? !this.collapsed.has(agentId) : !expand;
		if (collapse !== this.collapsed.has(agentId)) {
			this.setCollapsed(agentId, collapse);
			if (this.view) {
				this.render(this.view);
			}
		}
	}

	private setCollapsed(agentId: string, collapse: boolean): void {
		const list = withCollapsed([...this.collapsed], agentId, collapse);
		this.collapsed = new Set(list);
		this.host.onCollapsed(list);
	}

	/** A revealed detected port is shown even if its group was collapsed. */
	private expandForReveal(view: PortsViewState): void {
		const row = view.rows.find((r) => r.key === this.pendingReveal);
		if (row?.kind === 'detected' && this.collapsed.has(row.agentId)) {
			this.setCollapsed(row.agentId, false);
		}
	}

	private onKey(event: KeyboardEvent): void {
		const tr = (event.target as HTMLElement).closest('tr');
		const key = tr?.dataset['key'];
		const line = this.lines.get(key);
		if (!tr || key === undefined || !line || line.kind === 'empty') {
			return;
		}
		const action = keyAction(event, line.kind);
		if (action && this.run(action, key, line, tr)) {
			event.preventDefault();
			event.stopPropagation();
		}
	}

	/** Runs a key's action on a line; false when it does not apply there (the key goes on). */
	private run(
		action: KeyAction,
		key: string,
		line: Exclude<Line, EmptyLine>,
		tr: HTMLTableRowElement,
	): boolean {
		switch (action.type) {
			case 'move':
				this.setActive(moveFocus(this.order, key, action.key));
				this.focusActive();
				return true;
			case 'row':
				if (line instanceof PortLine) {
					line.act(action.action);
					return true;
				}
				if (line instanceof AgentLine && action.action === 'open' && !line.agent.isLocal) {
					this.host.send({ type: 'reconnect', agentId: line.agent.id });
					return true;
				}
				return false;
			case 'menu':
				openContextMenu(tr);
				return true;
			case 'toggle':
			case 'expand':
			case 'collapse':
				if (line instanceof GroupLine) {
					this.toggle(line.agentId, action.type === 'toggle' ? undefined : action.type === 'expand');
				}
				return true;
			case 'parent':
				if (line instanceof PortLine) {
					this.setActive(groupLineKey(line.row.agentId));
					this.focusActive();
				}
				return true;
		}
	}
}
