/**
 * The table's lines that are not ports: an agent's header, its "Detected Ports" group (which
 * collapses), and the line that says an agent forwards nothing yet. Each is built once for its key
 * and updated in place; buttons are made once and shown or hidden, never rebuilt, so a reconnect
 * countdown that changes every second keeps the keyboard focus where it is.
 */

import type { AgentRow, FromWebview } from '../protocol/webview';
import { COLUMNS } from './columns';
import { element, iconButton, setContext, setText, setTitle } from './dom';
import { icon } from './icons';

type Send = (message: FromWebview) => void;

/**
 * An agent's header line: its name, address, the user signed in there and its status, with
 * Reconnect (Sign In instead once its token was revoked or expired) and Disconnect.
 */
export class AgentLine {
	readonly kind = 'agent';
	readonly element: HTMLTableRowElement;
	private current: AgentRow;
	private drawn = '';
	private readonly label = element('span', { className: 'agent-label' });
	private readonly url = element('span', { className: 'agent-url' });
	private readonly user = element('span', { className: 'agent-user' });
	private readonly detail = element('span', { className: 'agent-detail' });
	private readonly reconnect: HTMLButtonElement;
	private readonly signIn: HTMLButtonElement;
	private readonly disconnect: HTMLButtonElement;

	constructor(agent: AgentRow, send: Send) {
		this.current = agent;
		this.element = element('tr', { className: 'agent', role: 'row' });
		this.element.dataset['key'] = agentLineKey(agent.id);
		this.element.setAttribute('aria-level', '1');
		this.element.tabIndex = -1;
		const th = element('th', { role: 'rowheader' });
		th.colSpan = COLUMNS.length;
		th.scope = 'rowgroup';
		this.reconnect = iconButton('refresh', 'Reconnect', () =>
			send({ type: 'reconnect', agentId: this.current.id }),
		);
		this.signIn = iconButton('key', 'Sign In Again...', () =>
			send({ type: 'signIn', agentId: this.current.id }),
		);
		this.disconnect = iconButton('disconnect', 'Disconnect', () =>
			send({ type: 'disconnect', agentId: this.current.id }),
		);
		const actions = element('span', { className: 'agent-actions' });
		actions.append(this.reconnect, this.signIn, this.disconnect);
		const cell = element('div', { className: 'cell' });
		cell.append(this.label, this.url, this.user, this.detail, actions);
		th.append(cell);
		this.element.append(th);
	}

	get agent(): AgentRow {
		return this.current;
	}

	update(agent: AgentRow): void {
		this.current = agent;
		const drawn = JSON.stringify(agent);
		if (drawn === this.drawn) {
			return;
		}
		this.drawn = drawn;
		this.element.dataset['status'] = agent.status;
		setText(this.label, agent.label);
		// This machine's URL is the tunnel's address; a remote agent's label is its URL already.
		setText(this.url, agent.isLocal ? agent.url : '');
		this.url.hidden = !agent.isLocal;
		setText(this.user, agent.user ?? '');
		setTitle(this.user, agent.user ? `Signed in as ${agent.user}` : '');
		this.user.hidden = agent.user === undefined;
		setText(this.detail, agent.detail);
		setTitle(this.detail, agent.detail);
		this.reconnect.hidden =
			agent.isLocal ||
			agent.needsSignIn === true ||
			agent.status === 'connected' ||
			agent.status === 'connecting';
		this.signIn.hidden = agent.needsSignIn !== true;
		this.disconnect.hidden = agent.isLocal;
		this.reconnect.setAttribute('aria-label', `Reconnect to ${agent.label}`);
		this.signIn.setAttribute('aria-label', `Sign in to ${agent.label} again`);
		this.disconnect.setAttribute('aria-label', `Disconnect from ${agent.label}`);
		const who = agent.user ? `, signed in as ${agent.user}` : '';
		this.element.setAttribute('aria-label', `${agent.label}${who}: ${agent.detail}`);
		setContext(this.element, {
			webviewSection: agent.isLocal ? 'localAgent' : 'agent',
			berthAgentId: agent.id,
			berthAgentStatus: agent.status,
			preventDefaultContextMenuItems: true,
		});
	}
}

/** An agent's "Detected Ports" line: Enter, Space or a click shows or hides them. */
export class GroupLine {
	readonly kind = 'group';
	readonly element: HTMLTableRowElement;
	private readonly chevron = element('span', { className: 'chevron' });
	private readonly count = element('span', { className: 'group-count' });
	private expanded: boolean | undefined;

	constructor(
		readonly agentId: string,
		onToggle: () => void,
	) {
		this.element = element('tr', { className: 'group', role: 'row' });
		this.element.dataset['key'] = groupLineKey(agentId);
		this.element.setAttribute('aria-level', '2');
		this.element.tabIndex = -1;
		const td = element('td', { role: 'gridcell' });
		td.colSpan = COLUMNS.length;
		const cell = element('div', { className: 'cell' });
		const name = element('span', { className: 'group-label', textContent: 'Detected Ports' });
		const hint = element('span', {
			className: 'group-hint',
			textContent: 'listening on the agent, not forwarded',
		});
		cell.append(this.chevron, name, this.count, hint);
		td.append(cell);
		this.element.append(td);
		this.element.addEventListener('click', onToggle);
	}

	update(detected: number, expanded: boolean): void {
		setText(this.count, `${detected}`);
		if (expanded !== this.expanded) {
			this.expanded = expanded;
			this.chevron.replaceChildren(icon(expanded ? 'chevron-down' : 'chevron-right'));
			this.element.setAttribute('aria-expanded', String(expanded));
		}
		this.element.setAttribute(
			'aria-label',
			`Detected ports: ${detected}, ${expanded ? 'shown' : 'hidden'}. Listening on the agent, not forwarded.`,
		);
	}
}

/** The line under an agent that forwards nothing yet (not focusable: there is nothing to act on). */
export class EmptyLine {
	readonly kind = 'empty';
	readonly element: HTMLTableRowElement;

	constructor(agentId: string) {
		this.element = element('tr', { className: 'empty', role: 'row' });
		this.element.dataset['key'] = emptyLineKey(agentId);
		const td = element('td', {
			role: 'gridcell',
			textContent: 'No forwarded ports. Use Forward a Port (+) above to forward one.',
		});
		td.colSpan = COLUMNS.length;
		this.element.append(td);
	}
}

/** Keys of the lines that are not ports (ports' keys come from the host and never start so). */
export function agentLineKey(agentId: string): string {
	return `agent|${agentId}`;
}

export function groupLineKey(agentId: string): string {
	return `group|${agentId}`;
}

export function emptyLineKey(agentId: string): string {
	return `empty|${agentId}`;
}
