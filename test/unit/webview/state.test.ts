import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortRow, PortsViewState } from '../../../protocol/webview';
import { applyToWebview, restoreWebviewState, withCollapsed } from '../../../webview/state';
import { localRow } from './rows';

function row(key: string, bytesIn = 0): PortRow {
	return localRow({ key, forwardId: key, bytesIn });
}

const view: PortsViewState = { agents: [], rows: [row('a'), row('b'), row('c')] };

describe('applyToWebview', () => {
	it('takes a snapshot as it is', () => {
		assert.equal(applyToWebview(undefined, { type: 'snapshot', state: view }), view);
	});

	it('ignores a patch that comes before any snapshot', () => {
		assert.equal(applyToWebview(undefined, { type: 'patch', upserted: [row('a')], removed: [] }), undefined);
	});

	it('updates rows in place, keeps their order, and drops removed ones', () => {
		const next = applyToWebview(view, {
			type: 'patch',
			upserted: [row('c', 7), row('a', 5)],
			removed: ['b'],
		});
		assert.deepEqual(
			next?.rows.map((r) => [r.key, r.kind === 'detected' ? undefined : r.bytesIn]),
			[
				['a', 5],
				['c', 7],
			],
		);
	});

	it('appends rows it did not know', () => {
		const next = applyToWebview(view, { type: 'patch', upserted: [row('d')], removed: [] });
		assert.deepEqual(
			next?.rows.map((r) => r.key),
			['a', 'b', 'c', 'd'],
		);
	});

	it('changes no data for a reveal', () => {
		assert.equal(applyToWebview(view, { type: 'reveal', key: 'b' }), view);
	});
});

describe('withCollapsed', () => {
	it('adds and removes an agent once', () => {
		assert.deepEqual(withCollapsed(undefined, 'a', true), ['a']);
		assert.deepEqual(withCollapsed(['a', 'b'], 'a', true), ['b', 'a']);
		assert.deepEqual(withCollapsed(['a', 'b'], 'a', false), ['b']);
	});

	it('keeps a bounded list, dropping the oldest', () => {
		let list: string[] = [];
		for (let i = 0; i < 100; i++) {
			list = withCollapsed(list, `agent${i}`, true);
		}
		assert.equal(list.length, 64);
		assert.equal(list[63], 'agent99');
	});
});

describe('restoreWebviewState', () => {
	it('restores what setState kept', () => {
		assert.deepEqual(restoreWebviewState({ view, activeKey: 'b', collapsed: ['ws://a:1'] }), {
			view,
			activeKey: 'b',
			collapsed: ['ws://a:1'],
		});
	});

	it('starts empty from nothing or an unexpected shape', () => {
		assert.deepEqual(restoreWebviewState(undefined), {});
		assert.deepEqual(restoreWebviewState({ view: { rows: 'x' }, activeKey: 3, collapsed: 'a' }), {});
	});

	it("drops a view from before rows had a kind (the host's snapshot redraws it)", () => {
		const old = { agents: [], rows: [{ key: 'a', state: 'active' }] };
		assert.deepEqual(restoreWebviewState({ view: old, activeKey: 'a' }), { activeKey: 'a' });
	});
});
