/** Small DOM helpers for the panel: elements with their ARIA attributes, buttons, row contexts. */

import type { RowContext } from '../protocol/webview';
import { icon, type IconName } from './icons';

/** Writes a cell's text only when it changed (no needless layout, no lost selection). */
export function setText(cell: HTMLElement, text: string): void {
	if (cell.textContent !== text) {
		cell.textContent = text;
	}
}

/** What the row's context menu hands to commands (`webview/context` menus). */
export function setContext(tr: HTMLElement, context: RowContext): void {
	tr.dataset['vscodeContext'] = JSON.stringify(context);
}

/** A new element with its class, ARIA role and label, and text. */
export function element<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	props: { className?: string; role?: string; ariaLabel?: string; textContent?: string } = {},
): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	if (props.className) {
		el.className = props.className;
	}
	if (props.role) {
		el.setAttribute('role', props.role);
	}
	if (props.ariaLabel) {
		el.setAttribute('aria-label', props.ariaLabel);
	}
	if (props.textContent !== undefined) {
		el.textContent = props.textContent;
	}
	return el;
}

/** Writes an attribute only when it changed. */
export function setTitle(el: HTMLElement, title: string): void {
	if (el.title !== title) {
		el.title = title;
	}
}

/** A text button (the welcome view's). */
export function button(
	text: string,
	onClick: () => void,
	kind: 'primary' | 'secondary' = 'secondary',
): HTMLButtonElement {
	const b = element('button', { className: kind, textContent: text });
	b.type = 'button';
	b.addEventListener('click', onClick);
	return b;
}

/**
 * An icon button inside a row: named for screen readers and on hover, out of the tab order (the
 * row is the one tab stop; its keys and context menu reach the same actions), and its click does
 * not reach the row.
 */
export function iconButton(name: IconName, label: string, onClick: () => void): HTMLButtonElement {
	const b = element('button', { className: 'icon-button', ariaLabel: label });
	b.type = 'button';
	b.title = label;
	b.tabIndex = -1;
	b.append(icon(name));
	b.addEventListener('click', (e) => {
		e.stopPropagation();
		onClick();
	});
	return b;
}

/** Sets `hidden` only when it changes. */
export function setHidden(el: HTMLElement, hidden: boolean): void {
	if (el.hidden !== hidden) {
		el.hidden = hidden;
	}
}

/**
 * Opens the row's context menu from the keyboard (Shift+F10, the menu key): VS Code's webview
 * host shows its `webview/context` menu for a `contextmenu` event, with the row's
 * `data-vscode-context`, at the event's position (here, under the row's start).
 */
export function openContextMenu(tr: HTMLTableRowElement): void {
	const rect = tr.getBoundingClientRect();
	tr.dispatchEvent(
		new MouseEvent('contextmenu', {
			bubbles: true,
			cancelable: true,
			clientX: rect.left + 16,
			clientY: rect.bottom,
		}),
	);
}
