import type * as vscode from 'vscode';
import { parseSavedState, type SavedState } from './ports/saved-state';
import type { SavedStateStore } from './services';

const SAVED_STATE_KEY = 'berth.savedState';

/** This window's remembered state in workspaceState, parsed once and cached. */
export function createSavedStateStore(memento: vscode.Memento): SavedStateStore {
	let cache: SavedState | undefined;
	return {
		load: () => (cache ??= parseSavedState(memento.get(SAVED_STATE_KEY))),
		save: (state) => {
			cache = state;
			void memento.update(SAVED_STATE_KEY, state);
		},
	};
}
