/**
 * The webview's state: the last view state from the host plus which row has the keyboard focus,
 * kept with `setState` so the panel redraws at once when it is shown again. Pure (no DOM).
 */

import type { PortRow, PortsViewState, ToWebview } from '../protocol/webview';

/** What `setState` keeps. */
export interface WebviewState {
	readonly view?: PortsViewState;
	/** The row (or agent) that holds the roving tabindex. */
	readonly activeKey?: string;
}

/** The view after a message from the host. A patch before any snapshot is ignored. */
export function applyToWebview(
	view: PortsViewState | undefined,
	message: ToWebview,
): PortsViewState | undefined {
	switch (message.type) {
		case 'snapshot':
			return message.state;
		case 'patch': {
			if (!view) {
				return undefined;
			}
			const removed = new Set(message.removed);
			const updates = new Map(message.upserted.map((r) => [r.key, r]));
			const rows: PortRow[] = [];
			for (const row of view.rows) {
				if (!removed.has(row.key)) {
					rows.push(updates.get(row.key) ?? row);
					updates.delete(row.key);
				}
			}
			rows.push(...updates.values());
			return { ...view, rows };
		}
	}
}

/** Reads what `getState()` returned; anything unexpected (an older version's state) starts empty. */
export function restoreWebviewState(value: unknown): WebviewState {
	if (typeof value !== 'object' || value === null) {
		return {};
	}
	const { view, activeKey } = value as { view?: unknown; activeKey?: unknown };
	const isView =
		typeof view === 'object' &&
		view !== null &&
		Array.isArray((view as PortsViewState).agents) &&
		Array.isArray((view as PortsViewState).rows);
	return {
		...(isView ? { view: view as PortsViewState } : {}),
		...(typeof activeKey === 'string' ? { activeKey } : {}),
	};
}
