/**
 * What the panel's host sends to bring the webview up to date: a snapshot, or a patch of the rows
 * that changed. Pure, so it is unit-tested.
 */

import type { PortRow, PortsViewState, ToWebview } from '../../protocol/webview';

/** The message that brings a webview from `previous` to `next`; undefined when nothing changed. */
export function diffPortsState(
	previous: PortsViewState | undefined,
	next: PortsViewState,
): ToWebview | undefined {
	if (
		!previous ||
		previous.notice !== next.notice ||
		JSON.stringify(previous.agents) !== JSON.stringify(next.agents) ||
		!sameOrder(previous.rows, next.rows)
	) {
		return { type: 'snapshot', state: next };
	}
	const before = new Map(previous.rows.map((r) => [r.key, JSON.stringify(r)]));
	const upserted = next.rows.filter((r) => before.get(r.key) !== JSON.stringify(r));
	const keys = new Set(next.rows.map((r) => r.key));
	const removed = previous.rows.filter((r) => !keys.has(r.key)).map((r) => r.key);
	return upserted.length === 0 && removed.length === 0 ? undefined : { type: 'patch', upserted, removed };
}

/** A patch can only drop rows and change values: new rows (and their place) come in a snapshot. */
function sameOrder(previous: readonly PortRow[], next: readonly PortRow[]): boolean {
	const nextKeys = next.map((r) => r.key);
	const kept = new Set(nextKeys);
	const previousKept = previous.map((r) => r.key).filter((k) => kept.has(k));
	return previousKept.length === nextKeys.length && previousKept.every((k, i) => k === nextKeys[i]);
}
