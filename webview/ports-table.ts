/**
 * The table, drawn from PortsViewState and updated in place: rows are keyed, and a cell's text
 * is written only when it changed, so counters tick every second without flicker or lost focus.
 */

import type { AgentRow, FromWebview, PortRow, PortsViewState } from '../protocol/webview';
import { button, element, setContext, setText } from './dom';
import { formatConnections, formatOrigin, formatPort, formatState, formatTraffic } from './format';

type Send = (message: FromWebview) => void;

const COLUMNS = [
	'Port',
	'Forwarded Address',
	'Running Process',
	'Origin',
	'Connections',
	'Traffic',
	'State',
	'',
];

interface Line {
	readonly element: HTMLTableRowElement;
	readonly cells: HTMLElement[];
	/** Last JSON drawn, to skip unchanged lines. */
	drawn: string;
}

/** The panel's DOM: toolbar, notice, and the keyed table. */
export class PortsTable {
	private readonly notice: HTMLParagraphElement;
	private readonly body: HTMLTableSectionElement;
	private readonly lines = new Map<string, Line>();
	private activeKey: string | undefined;

	constructor(
		root: HTMLElement,
		private readonly send: Send,
		private readonly onActiveKey: (key: string) => void,
	) {
		const toolbar = element('div', {
			className: 'toolbar',
			role: 'toolbar',
			ariaLabel: 'Port forwarding actions',
		});
		toolbar.append(
			button('Forward a Port…', 'Forward a port', () => send({ type: 'forwardPort' }), 'primary'),
			button('Connect to Agent…', 'Connect to a remote agent', () => send({ type: 'connect' })),
		);
		this.notice = element('p', { className: 'notice', role: 'status' });
		const table = element('table', { role: 'grid', ariaLabel: 'Forwarded and detected ports' });
		const head = table.createTHead().insertRow();
		for (const name of COLUMNS) {
			const th = element('th', { role: 'columnheader', textContent: name });
			th.scope = 'col';
			head.append(th);
		}
		this.body = table.createTBody();
		this.body.addEventListener('keydown', (e) => this.onKey(e));
		this.body.addEventListener('focusin', (e) => {
			const tr = (e.target as HTMLElement).closest('tr');
			if (tr?.dataset['key']) {
				this.setActive(tr.dataset['key']);
			}
		});
		root.replaceChildren(toolbar, this.notice, table);
	}

	render(view: PortsViewState, activeKey?: string): void {
		this.notice.textContent = view.notice ?? '';
		this.notice.hidden = !view.notice;
		const order: HTMLTableRowElement[] = [];
		const keys = new Set<string>();
		for (const agent of view.agents) {
			order.push(this.drawAgent(agent, keys));
			for (const row of view.rows.filter((r) => r.agentId === agent.id)) {
				order.push(this.drawRow(row, keys));
			}
		}
		for (const [key, line] of this.lines) {
			if (!keys.has(key)) {
				line.element.remove();
				this.lines.delete(key);
			}
		}
		order.forEach((tr, i) => {
			if (this.body.children[i] !== tr) {
				this.body.insertBefore(tr, this.body.children[i] ?? null);
			}
		});
		const active = activeKey ?? this.activeKey;
		this.setActive(active !== undefined && this.lines.has(active) ? active : order[0]?.dataset['key']);
	}

	private drawAgent(agent: AgentRow, keys: Set<string>): HTMLTableRowElement {
		const key = `agent|${agent.id}`;
		keys.add(key);
		const line = this.line(key, () => {
			const tr = element('tr', { className: 'agent', role: 'row' });
			const th = element('th', { role: 'rowheader' });
			th.colSpan = COLUMNS.length;
			th.scope = 'rowgroup';
			tr.append(th);
			return { element: tr, cells: [th] };
		});
		const drawn = JSON.stringify(agent);
		if (line.drawn !== drawn) {
			line.drawn = drawn;
			line.element.dataset['status'] = agent.status;
			setContext(line.element, {
				webviewSection: 'agent',
				berthAgentId: agent.id,
				preventDefaultContextMenuItems: true,
			});
			const title = element('span', { className: 'agent-label', textContent: agent.label });
			const url = element('span', { className: 'agent-url', textContent: agent.url });
			const detail = element('span', { className: 'agent-detail', textContent: agent.detail });
			const actions: HTMLElement[] = [];
			if (agent.status === 'failed') {
				actions.push(
					button('Reconnect', `Reconnect to ${agent.label}`, () =>
						this.send({ type: 'reconnect', agentId: agent.id }),
					),
				);
			}
			if (!agent.isLocal) {
				actions.push(
					button('Disconnect', `Disconnect from ${agent.label}`, () =>
						this.send({ type: 'disconnect', agentId: agent.id }),
					),
				);
			}
			line.cells[0]!.replaceChildren(title, url, detail, ...actions);
			line.element.setAttribute('aria-label', `${agent.label}: ${agent.detail}`);
		}
		return line.element;
	}

	private drawRow(row: PortRow, keys: Set<string>): HTMLTableRowElement {
		keys.add(row.key);
		const line = this.line(row.key, () => {
			const tr = element('tr', { className: 'port', role: 'row' });
			const cells = COLUMNS.map(() => tr.appendChild(element('td', { role: 'gridcell' })));
			cells[cells.length - 1]!.className = 'actions';
			cells[cells.length - 1]!.append(...this.actionsFor(row));
			return { element: tr, cells };
		});
		const drawn = JSON.stringify(row);
		if (line.drawn === drawn) {
			return line.element;
		}
		line.drawn = drawn;
		const texts = [
			formatPort(row),
			row.localAddress ?? '',
			row.process ?? (row.state === 'detected' ? '' : 'Process information unavailable'),
			formatOrigin(row),
			formatConnections(row),
			formatTraffic(row),
			formatState(row),
		];
		texts.forEach((text, i) => setText(line.cells[i]!, text));
		line.cells[6]!.title = row.error ?? '';
		line.element.dataset['state'] = row.state;
		line.element.setAttribute(
			'aria-label',
			`Port ${formatPort(row)}, ${formatState(row)}${row.error ? `: ${row.error}` : ''}`,
		);
		setContext(line.element, {
			webviewSection: row.forwardId ? 'forward' : 'detected',
			berthAgentId: row.agentId,
			...(row.forwardId ? { berthForwardId: row.forwardId } : {}),
			berthHost: row.host,
			berthPort: row.port,
			preventDefaultContextMenuItems: true,
		});
		return line.element;
	}

	private actionsFor(row: PortRow): HTMLElement[] {
		const port = formatPort(row);
		const { agentId, forwardId } = row;
		const label = button('Label', `Set the label of port ${port}`, () =>
			this.send({ type: 'setLabel', agentId, host: row.host, port: row.port }),
		);
		if (!forwardId) {
			return [
				button(
					'Forward',
					`Forward port ${port}`,
					() => this.send({ type: 'forwardDetected', agentId, host: row.host, port: row.port }),
					'primary',
				),
				label,
			];
		}
		return [
			button('Open', `Open port ${port} in the browser`, () =>
				this.send({ type: 'openInBrowser', agentId, forwardId }),
			),
			button('Copy', `Copy the local address of port ${port}`, () =>
				this.send({ type: 'copyLocalAddress', agentId, forwardId }),
			),
			label,
			button('Stop', `Stop forwarding port ${port}`, () =>
				this.send({ type: 'stopForwarding', agentId, forwardId }),
			),
		];
	}

	private line(key: string, create: () => { element: HTMLTableRowElement; cells: HTMLElement[] }): Line {
		let line = this.lines.get(key);
		if (!line) {
			const { element: tr, cells } = create();
			tr.dataset['key'] = key;
			tr.tabIndex = -1;
			line = { element: tr, cells, drawn: '' };
			this.lines.set(key, line);
		}
		return line;
	}

	private setActive(key: string | undefined): void {
		for (const [k, line] of this.lines) {
			line.element.tabIndex = k === key ? 0 : -1;
		}
		if (key !== undefined && key !== this.activeKey) {
			this.activeKey = key;
			this.onActiveKey(key);
		}
	}

	/** Arrows and Home/End move between rows; Enter, Delete, F2 and Ctrl+C act on the row, as in the Ports view. */
	private onKey(event: KeyboardEvent): void {
		const tr = event.target instanceof HTMLTableRowElement ? event.target : undefined;
		const rows = [...this.body.rows];
		const index = tr ? rows.indexOf(tr) : -1;
		const focus = (i: number): void => {
			const target = rows[Math.max(0, Math.min(rows.length - 1, i))];
			target?.focus();
		};
		const act = (text: string): void => {
			const buttons = tr ? [...tr.querySelectorAll('button')] : [];
			buttons.find((b) => b.textContent === text)?.click();
		};
		const keys: Record<string, () => void> = {
			ArrowDown: () => focus(index + 1),
			ArrowUp: () => focus(index - 1),
			Home: () => focus(0),
			End: () => focus(rows.length - 1),
			Enter: () => act(tr?.dataset['state'] === 'detected' ? 'Forward' : 'Open'),
			Delete: () => act('Stop'),
			F2: () => act('Label'),
		};
		const handler =
			keys[event.key] ??
			((event.ctrlKey || event.metaKey) && event.key === 'c' ? () => act('Copy') : undefined);
		if (handler && (tr || event.key.startsWith('Arrow'))) {
			event.preventDefault();
			handler();
		}
	}
}
