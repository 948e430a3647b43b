import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyAction, rowMessage, type KeyPress } from '../../../webview/row-actions';
import { detectedRow, localRow, proxyRow, remoteRow } from './rows';

function press(key: string, mods: Partial<KeyPress> = {}): KeyPress {
	return { key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}

describe('row actions', () => {
	it('turns each action on a local forward into its message', () => {
		const row = localRow();
		const ref = { agentId: 'local', forwardId: 'f1' };
		assert.deepEqual(rowMessage('open', row), { type: 'openInBrowser', ...ref });
		assert.deepEqual(rowMessage('preview', row), { type: 'previewInEditor', ...ref });
		assert.deepEqual(rowMessage('copy', row), { type: 'copyLocalAddress', ...ref });
		assert.deepEqual(rowMessage('stop', row), { type: 'stopForwarding', ...ref });
		assert.deepEqual(rowMessage('label', row), {
			type: 'setLabel',
			agentId: 'local',
			host: 'localhost',
			port: 3000,
		});
		assert.equal(rowMessage('forward', row), undefined);
	});

	it('offers only Stop on a reverse forward, and Forward and Label on a detected port', () => {
		assert.deepEqual(rowMessage('stop', remoteRow()), {
			type: 'stopForwarding',
			agentId: 'ws://a:1',
			forwardId: 'r1',
		});
		assert.equal(rowMessage('open', remoteRow()), undefined);
		assert.equal(rowMessage('label', remoteRow()), undefined);
		const forward = { type: 'forwardDetected', agentId: 'ws://a:1', host: '0.0.0.0', port: 5000 };
		assert.deepEqual(rowMessage('forward', detectedRow()), forward);
		assert.deepEqual(rowMessage('open', detectedRow()), forward, 'Enter forwards a detected port');
		assert.equal(rowMessage('stop', detectedRow()), undefined);
		assert.equal(rowMessage('copy', detectedRow()), undefined);
	});
});

describe('row actions on a proxy', () => {
	it('stops and copies a proxy from its row (Delete, Ctrl+C), and does nothing else', () => {
		const ref = { agentId: 'ws://a:1', forwardId: 'p1' };
		for (const row of [proxyRow(), proxyRow({ mode: 'share', exit: 'this machine' })]) {
			assert.deepEqual(rowMessage('stop', row), { type: 'stopProxy', ...ref });
			assert.deepEqual(rowMessage('copy', row), { type: 'copyProxyAddress', ...ref });
			for (const action of ['open', 'preview', 'label', 'forward'] as const) {
				assert.equal(rowMessage(action, row), undefined, action);
			}
		}
	});
});

describe('keyAction', () => {
	it('maps the Ports view keys on a row', () => {
		assert.deepEqual(keyAction(press('Enter'), 'local'), { type: 'row', action: 'open' });
		assert.deepEqual(keyAction(press('Delete'), 'local'), { type: 'row', action: 'stop' });
		assert.deepEqual(keyAction(press('Backspace', { metaKey: true }), 'local'), {
			type: 'row',
			action: 'stop',
		});
		assert.deepEqual(keyAction(press('F2'), 'detected'), { type: 'row', action: 'label' });
		assert.deepEqual(keyAction(press('c', { ctrlKey: true }), 'local'), { type: 'row', action: 'copy' });
		assert.deepEqual(keyAction(press('C', { metaKey: true }), 'local'), { type: 'row', action: 'copy' });
		assert.deepEqual(keyAction(press('F10', { shiftKey: true }), 'agent'), { type: 'menu' });
		assert.deepEqual(keyAction(press('ContextMenu'), 'remote'), { type: 'menu' });
	});

	it('moves with plain navigation keys only', () => {
		for (const key of ['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp']) {
			assert.deepEqual(keyAction(press(key), 'local'), { type: 'move', key });
		}
		assert.equal(keyAction(press('ArrowDown', { shiftKey: true }), 'local'), undefined);
		assert.equal(keyAction(press('Delete', { shiftKey: true }), 'local'), undefined);
		assert.equal(keyAction(press('Enter', { altKey: true }), 'local'), undefined);
		assert.equal(keyAction(press('a'), 'local'), undefined, 'other keys go on to the workbench');
	});

	it('opens and closes the detected-ports group as a tree does', () => {
		assert.deepEqual(keyAction(press('Enter'), 'group'), { type: 'toggle' });
		assert.deepEqual(keyAction(press(' '), 'group'), { type: 'toggle' });
		assert.deepEqual(keyAction(press('ArrowRight'), 'group'), { type: 'expand' });
		assert.deepEqual(keyAction(press('ArrowLeft'), 'group'), { type: 'collapse' });
		assert.equal(keyAction(press('Delete'), 'group'), undefined);
		assert.deepEqual(keyAction(press('ArrowLeft'), 'detected'), { type: 'parent' });
		assert.equal(keyAction(press('ArrowLeft'), 'local'), undefined);
	});
});
