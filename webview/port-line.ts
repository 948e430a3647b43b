/**
 * One port row of the table (a local forward, a reverse forward, a proxy or a detected port), built
 * for its key and updated in place: a cell's text is written only when it changed, and its icon
 * buttons are made once (a row's kind never changes), so counters tick without flicker or lost
 * focus.
 */

import type { FromWebview, PortRow, RowSection } from '../protocol/webview';
import { COLUMNS } from './columns';
import { element, iconButton, setContext, setText, setTitle } from './dom';
import {
	addressTitle,
	formatAddress,
	formatConnections,
	formatOrigin,
	formatPort,
	formatProcess,
	formatState,
	formatTraffic,
	formatTrafficRate,
	processTitle,
	proxyAddress,
	rowLabel,
	trafficTitle,
} from './format';
import { icon, type IconName } from './icons';
import { rowMessage, type RowAction } from './row-actions';

type Send = (message: FromWebview) => void;

/** Each row kind's `webviewSection`, for its context menu. */
const SECTIONS: Readonly<Record<PortRow['kind'], RowSection>> = {
	local: 'forward',
	remote: 'remoteForward',
	proxy: 'proxy',
	detected: 'detected',
};

/** A text span that cuts its text with an ellipsis (the cell's tooltip has all of it). */
function text(className = 'text'): HTMLSpanElement {
	return element('span', { className });
}

/** A span holding one icon, redrawn only when the icon changes. */
class IconSlot {
	readonly element: HTMLSpanElement;
	private name: IconName | undefined;

	constructor(className: string) {
		this.element = text(className);
	}

	set(name: IconName): void {
		if (name !== this.name) {
			this.name = name;
			this.element.replaceChildren(icon(name));
		}
	}
}

/** Ctrl+C, or ⌘C on macOS: for tooltips. */
function copyKeyName(): string {
	return /Mac/.test(navigator.userAgent) ? '⌘C' : 'Ctrl+C';
}

/** One port row. */
export class PortLine {
	readonly element: HTMLTableRowElement;
	private current: PortRow;
	private drawn = '';
	private readonly cells = new Map<string, HTMLTableCellElement>();
	private readonly status = new IconSlot('status');
	private readonly port = text();
	private readonly address: HTMLAnchorElement;
	private readonly problemIcon = new IconSlot('problem-icon');
	private readonly process = text();
	private readonly connInline = text('conn-inline');
	private readonly traffic = text('totals');
	private readonly rate = text('rate');

	constructor(
		row: PortRow,
		private readonly send: Send,
	) {
		this.current = row;
		this.element = element('tr', { className: 'port', role: 'row' });
		this.element.dataset['key'] = row.key;
		this.element.dataset['kind'] = row.kind;
		this.element.setAttribute('aria-level', row.kind === 'detected' ? '3' : '2');
		this.element.tabIndex = -1;
		for (const column of COLUMNS) {
			const td = element('td', { className: `c-${column.id}`, role: 'gridcell' });
			this.cells.set(column.id, td);
			this.element.append(td);
		}
		this.address = element('a', { className: 'text link' });
		this.address.tabIndex = -1;
		this.address.addEventListener('click', (e) => {
			e.preventDefault();
			e.stopPropagation();
			this.act('open');
		});
		this.build();
	}

	get row(): PortRow {
		return this.current;
	}

	/** The row's kind (fixed for its key). */
	get kind(): PortRow['kind'] {
		return this.current.kind;
	}

	/** Runs an action of this row, if the row can do it. */
	act(action: RowAction): void {
		const message = rowMessage(action, this.current);
		if (message) {
			this.send(message);
		}
	}

	/** Draws `row` (same key); does nothing when nothing changed. */
	update(row: PortRow): void {
		this.current = row;
		const drawn = JSON.stringify(row);
		if (drawn === this.drawn) {
			return;
		}
		this.drawn = drawn;
		const state = formatState(row);
		this.element.dataset['tone'] = state.tone;
		this.status.set(state.icon);
		setText(this.port, formatPort(row));
		this.drawAddress(row);
		this.drawProcess(row, state.icon);
		setText(this.cell('origin'), formatOrigin(row));
		setText(this.cell('conn'), formatConnections(row));
		setText(this.connInline, row.kind === 'detected' ? '' : `${row.openConnections} open ·`);
		setText(this.traffic, formatTraffic(row));
		const rate = formatTrafficRate(row);
		setText(this.rate, rate ? `${rate} ·` : '');
		this.rate.hidden = !rate;
		setTitle(this.cell('traffic'), row.kind === 'detected' ? '' : trafficTitle(row));
		setText(this.cell('state'), state.text);
		setTitle(this.cell('state'), processTitle(row) || state.text);
		setTitle(this.cell('port'), `${formatPort(row)}: ${state.text}`);
		setTitle(this.cell('origin'), formatOrigin(row));
		this.element.setAttribute('aria-label', rowLabel(row));
		setContext(this.element, {
			webviewSection: SECTIONS[row.kind],
			berthAgentId: row.agentId,
			...(row.kind !== 'detected' ? { berthForwardId: row.forwardId } : {}),
			berthHost: row.host,
			berthPort: row.port,
			preventDefaultContextMenuItems: true,
		});
	}

	private cell(id: string): HTMLTableCellElement {
		return this.cells.get(id)!;
	}

	/** The cells' fixed parts and the row's icon buttons, by kind. */
	private build(): void {
		const button = (name: IconName, label: string, action: RowAction): HTMLButtonElement =>
			iconButton(name, label, () => this.act(action));
		const portActions = element('span', { className: 'actions' });
		const addressActions = element('span', { className: 'actions' });
		switch (this.current.kind) {
			case 'local':
				portActions.append(
					button('tag', 'Set Port Label (F2)', 'label'),
					button('close', 'Stop Forwarding Port (Delete)', 'stop'),
				);
				addressActions.append(
					button('copy', `Copy Local Address (${copyKeyName()})`, 'copy'),
					button('globe', 'Open in Browser (Enter)', 'open'),
					button('preview', 'Preview in Editor', 'preview'),
				);
				break;
			case 'remote':
				portActions.append(button('close', 'Stop Forwarding Port (Delete)', 'stop'));
				break;
			case 'proxy':
				portActions.append(
					button(
						'close',
						this.current.mode === 'socks'
							? 'Stop SOCKS Proxy (Delete)'
							: "Stop Sharing This Machine's Network (Delete)",
						'stop',
					),
				);
				addressActions.append(button('copy', `Copy Proxy Address (${copyKeyName()})`, 'copy'));
				break;
			case 'detected':
				portActions.append(
					button('add', 'Forward Port (Enter)', 'forward'),
					button('tag', 'Set Port Label (F2)', 'label'),
				);
				break;
		}
		const flex = (...children: Node[]): HTMLDivElement => {
			const div = element('div', { className: 'cell' });
			div.append(...children);
			return div;
		};
		this.cell('port').append(flex(this.status.element, this.port, portActions));
		this.cell('address').append(flex(this.address, addressActions));
		this.cell('process').append(flex(this.problemIcon.element, this.process));
		this.cell('traffic').append(flex(this.connInline, this.rate, this.traffic));
	}

	private drawAddress(row: PortRow): void {
		const address = formatAddress(row);
		setText(this.address, address);
		const href = row.kind === 'local' ? (row.url ?? `http://${row.localAddress}/`) : '';
		if (href) {
			this.address.href = href;
		} else {
			this.address.removeAttribute('href');
		}
		setTitle(this.address, addressTitle(row));
		const cell = this.cell('address');
		if (row.kind === 'local') {
			cell.dataset['localAddress'] = row.localAddress;
		} else if (row.kind === 'proxy') {
			cell.dataset['proxyAddress'] = proxyAddress(row);
		}
	}

	private drawProcess(row: PortRow, stateIcon: IconName): void {
		const problem = row.kind !== 'detected' ? row.problem : undefined;
		this.problemIcon.element.hidden = problem === undefined;
		this.problemIcon.set(stateIcon);
		this.element.dataset['problem'] = problem?.kind ?? '';
		setText(this.process, formatProcess(row));
		setTitle(this.cell('process'), processTitle(row));
	}
}
