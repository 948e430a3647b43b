/**
 * The webview's state: the last view state from the host, which line has the keyboard focus, and
 * which agents' detected ports are collapsed, kept with `setState` so the panel redraws at once
 * when it is shown again. Pure (no DOM).
 */

import type { PortRow, PortsViewState, ToWebview } from '../protocol/webview';

/** Most collapsed groups remembered (agents come and go; the list must not grow without end). */
const MAX_COLLAPSED = 64;

/** What `setState` keeps. */
export interface WebviewState {
	readonly view?: PortsViewState;
	/** The line that holds the roving tabindex. */
	readonly activeKey?: string;
	/** Agents whose detected ports are collapsed, by agent id. */
	readonly collapsed?: readonly string[];
}

/** The view after a message from the host. A patch before any snapshot is ignored; a reveal changes no data. */
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
		case 'reveal':
			return view;
	}
}

/** The collapsed list with `agentId` collapsed or expanded (most recent last, bounded). */
export function withCollapsed(
	collapsed: readonly string[] | undefined,
	agentId: string,
	isCollapsed: boolean,
): string[] {
	const others = (collapsed ?? []).filter((id) => id !== agentId);
	return isCollapsed ? [...others, agentId].slice(-MAX_COLLAPSED) : others;
}

/** Reads what `getState()` returned; anything unexpected (an older version's state) starts empty. */
export function restoreWebviewState(value: unknown): WebviewState {
	if (typeof value !== 'object' || value === null) {
		return {};
	}
	const { view, activeKey, collapsed } = value as {
		view?: unknown;
		activeKey?: unknown;
		collapsed?: unknown;
	};
	const rows = (view as { rows?: unknown } | undefined)?.rows;
	// Rows without `kind` come from a version before rows were a union: redraw from the host's snapshot.
	const isView =
		typeof view === 'object' &&
		view !== null &&
		Array.isArray((view as PortsViewState).agents) &&
		Array.isArray(rows) &&
		rows.every((r) => typeof (r as { kind?: unknown } | null)?.kind === 'string');
	const ids = Array.isArray(collapsed) ? collapsed.filter((id): id is string => typeof id === 'string') : [];
	return {
		...(isView ? { view: view as PortsViewState } : {}),
		...(typeof activeKey === 'string' ? { activeKey } : {}),
		...(ids.length > 0 ? { collapsed: ids.slice(-MAX_COLLAPSED) } : {}),
	};
}
