import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortRow, PortsViewState } from '../../../protocol/webview';
import { applyToWebview, restoreWebviewState } from '../../../webview/state';

function row(key: string, bytesIn = 0): PortRow {
	return {
		key,
		agentId: 'local',
		forwardId: key,
		host: 'localhost',
		port: 3000,
		openConnections: 0,
		totalConnections: 0,
		bytesIn,
		bytesOut: 0,
		state: 'active',
	};
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
			next?.rows.map((r) => [r.key, r.bytesIn]),
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
});

describe('restoreWebviewState', () => {
	it('restores what setState kept', () => {
		assert.deepEqual(restoreWebviewState({ view, activeKey: 'b' }), { view, activeKey: 'b' });
	});

	it('starts empty from nothing or an unexpected shape', () => {
		assert.deepEqual(restoreWebviewState(undefined), {});
		assert.deepEqual(restoreWebviewState({ view: { rows: 'x' }, activeKey: 3 }), {});
	});
});
