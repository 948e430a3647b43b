/**
 * What a row does: the action behind each icon and key, as the message the host runs. Keys
 * follow the Ports view (Enter opens, Delete stops, F2 labels, Ctrl/Cmd+C copies, Shift+F10 or
 * the context-menu key opens the menu) and tree conventions for the detected-ports group (Right
 * expands, Left collapses). Pure (no DOM), so it is unit-tested.
 */

import type { FromWebview, PortRow } from '../protocol/webview';

/** Something a port row can do. */
export type RowAction = 'open' | 'preview' | 'copy' | 'label' | 'stop' | 'forward';

/** The message for `action` on `row`; undefined when the row cannot do that (e.g. open a detected port). */
export function rowMessage(action: RowAction, row: PortRow): FromWebview | undefined {
	const { agentId, host, port } = row;
	switch (row.kind) {
		case 'local': {
			const ref = { agentId, forwardId: row.forwardId };
			switch (action) {
				case 'open':
					return { type: 'openInBrowser', ...ref };
				case 'preview':
					return { type: 'previewInEditor', ...ref };
				case 'copy':
					return { type: 'copyLocalAddress', ...ref };
				case 'label':
					return { type: 'setLabel', agentId, host, port };
				case 'stop':
					return { type: 'stopForwarding', ...ref };
				case 'forward':
					return undefined;
			}
			break;
		}
		case 'remote':
			return action === 'stop' ? { type: 'stopForwarding', agentId, forwardId: row.forwardId } : undefined;
		case 'proxy': {
			const ref = { agentId, forwardId: row.forwardId };
			switch (action) {
				case 'stop':
					return { type: 'stopProxy', ...ref };
				case 'copy':
					return { type: 'copyProxyAddress', ...ref };
				default:
					return undefined;
			}
		}
		case 'detected':
			switch (action) {
				case 'forward':
				case 'open':
					return { type: 'forwardDetected', agentId, host, port };
				case 'label':
					return { type: 'setLabel', agentId, host, port };
				default:
					return undefined;
			}
	}
}

/** The kinds of focusable lines: port rows, agent rows, and an agent's detected-ports group. */
export type LineKind = PortRow['kind'] | 'agent' | 'group';

/** Keys that move the focus between lines. */
export type NavigationKey = 'ArrowDown' | 'ArrowUp' | 'Home' | 'End' | 'PageDown' | 'PageUp';

/** What a key press on a focused line means. */
export type KeyAction =
	| { readonly type: 'move'; readonly key: NavigationKey }
	| { readonly type: 'row'; readonly action: RowAction }
	| { readonly type: 'menu' }
	| { readonly type: 'toggle' }
	| { readonly type: 'expand' }
	| { readonly type: 'collapse' }
	/** Left on a detected port: to its group line. */
	| { readonly type: 'parent' };

/** The modifier state and key of a keydown (a KeyboardEvent fits). */
export interface KeyPress {
	readonly key: string;
	readonly ctrlKey: boolean;
	readonly metaKey: boolean;
	readonly shiftKey: boolean;
	readonly altKey: boolean;
}

const NAVIGATION_KEYS: ReadonlySet<string> = new Set<NavigationKey>([
	'ArrowDown',
	'ArrowUp',
	'Home',
	'End',
	'PageDown',
	'PageUp',
]);

/** The action of a key press on a line of `kind`; undefined when the key is not ours (let it be). */
export function keyAction(press: KeyPress, kind: LineKind): KeyAction | undefined {
	const { key, ctrlKey, metaKey, shiftKey, altKey } = press;
	const plain = !ctrlKey && !metaKey && !shiftKey && !altKey;
	if (plain && NAVIGATION_KEYS.has(key)) {
		return { type: 'move', key: key as NavigationKey };
	}
	if (key === 'ContextMenu' || (key === 'F10' && shiftKey && !ctrlKey && !metaKey && !altKey)) {
		return { type: 'menu' };
	}
	if (kind === 'group') {
		return groupKey(press, plain);
	}
	if ((ctrlKey || metaKey) && !shiftKey && !altKey && key.toLowerCase() === 'c') {
		return { type: 'row', action: 'copy' };
	}
	// Delete, or Cmd+Backspace as on macOS.
	if ((plain && key === 'Delete') || (metaKey && !ctrlKey && !shiftKey && !altKey && key === 'Backspace')) {
		return { type: 'row', action: 'stop' };
	}
	if (!plain) {
		return undefined;
	}
	switch (key) {
		case 'Enter':
			return { type: 'row', action: 'open' };
		case 'F2':
			return { type: 'row', action: 'label' };
		case 'ArrowLeft':
			return kind === 'detected' ? { type: 'parent' } : undefined;
		default:
			return undefined;
	}
}

function groupKey(press: KeyPress, plain: boolean): KeyAction | undefined {
	if (!plain) {
		return undefined;
	}
	switch (press.key) {
		case 'Enter':
		case ' ':
			return { type: 'toggle' };
		case 'ArrowRight':
			return { type: 'expand' };
		case 'ArrowLeft':
			return { type: 'collapse' };
		default:
			return undefined;
	}
}
