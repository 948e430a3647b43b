import * as vscode from 'vscode';
import { Disposable, Emitter } from '../protocol/lifecycle';
import type { ExtensionLogger } from './logger';
import { resolveSettings, SETTING_KEYS, type BerthSettings, type RawSettings } from './settings';

/**
 * The one module that reads `berth.*` settings: a typed, defaulted snapshot (extension/settings.ts
 * resolves it), renewed and announced when a `berth` setting changes. Problems go to the log.
 */
export class Config extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<BerthSettings>());
	readonly onDidChange = this._onDidChange.event;
	private current: BerthSettings;

	constructor(private readonly log: ExtensionLogger) {
		super();
		this.current = this.read();
		this._register(
			vscode.workspace.onDidChangeConfiguration((e) => {
				if (e.affectsConfiguration('berth')) {
					this.current = this.read();
					this._onDidChange.fire(this.current);
				}
			}),
		);
	}

	get settings(): BerthSettings {
		return this.current;
	}

	private read(): BerthSettings {
		const section = vscode.workspace.getConfiguration('berth');
		const raw: Record<string, unknown> = {};
		for (const key of SETTING_KEYS) {
			raw[key] = section.get(key);
		}
		const settings = resolveSettings(raw satisfies RawSettings);
		for (const problem of settings.problems) {
			this.log.warn(`settings: ${problem}`);
		}
		return settings;
	}
}
