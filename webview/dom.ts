/** Small DOM helpers for the panel: elements with their ARIA attributes, buttons, row contexts. */

import type { RowContext } from '../protocol/webview';

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

/** A button whose click does not reach the row (the row's own keys stay the row's). */
export function button(
	text: string,
	ariaLabel: string,
	onClick: () => void,
	kind: 'primary' | 'secondary' = 'secondary',
): HTMLButtonElement {
	const b = element('button', { className: kind, ariaLabel, textContent: text });
	b.type = 'button';
	b.title = ariaLabel;
	b.addEventListener('click', (e) => {
		e.stopPropagation();
		onClick();
	});
	return b;
}
