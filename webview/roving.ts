/**
 * Roving focus over the table's lines: one tab stop, moved by the arrow keys, Home/End and
 * Page Up/Down, and kept on the same line, or its nearest surviving neighbour, when lines come
 * and go. Pure (keys in, key out), so it is unit-tested.
 */

import type { NavigationKey } from './row-actions';

/** Lines a Page Up/Down moves by. */
export const PAGE_LINES = 10;

/** The line the focus moves to from `current` (the first line when nothing had it). */
export function moveFocus(
	order: readonly string[],
	current: string | undefined,
	key: NavigationKey,
): string | undefined {
	if (order.length === 0) {
		return undefined;
	}
	const index = current === undefined ? -1 : order.indexOf(current);
	const last = order.length - 1;
	const target = ((): number => {
		switch (key) {
			case 'ArrowDown':
				return index < 0 ? 0 : index + 1;
			case 'ArrowUp':
				return index < 0 ? 0 : index - 1;
			case 'Home':
				return 0;
			case 'End':
				return last;
			case 'PageDown':
				return index + PAGE_LINES;
			case 'PageUp':
				return index - PAGE_LINES;
		}
	})();
	return order[Math.max(0, Math.min(last, target))];
}

/**
 * Where the tab stop goes after the lines changed from `previous` to `next`: the same line while
 * it is there; else the line after it that survived, else the one before it; else the first.
 */
export function keepFocus(
	previous: readonly string[],
	next: readonly string[],
	active: string | undefined,
): string | undefined {
	const present = new Set(next);
	if (active !== undefined && present.has(active)) {
		return active;
	}
	const index = active === undefined ? -1 : previous.indexOf(active);
	if (index >= 0) {
		const after = previous.slice(index + 1).find((k) => present.has(k));
		const before = previous
			.slice(0, index)
			.reverse()
			.find((k) => present.has(k));
		const neighbour = after ?? before;
		if (neighbour !== undefined) {
			return neighbour;
		}
	}
	return next[0];
}
