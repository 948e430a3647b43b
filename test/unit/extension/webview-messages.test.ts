import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFromWebview, parseRowContext } from '../../../protocol/webview';

describe('messages from the webview', () => {
	const valid: unknown[] = [
		{ type: 'ready' },
		{ type: 'forwardPort' },
		{ type: 'turnOnTunnelAccess' },
		{ type: 'connect' },
		{ type: 'disconnect', agentId: 'ws://a:1' },
		{ type: 'reconnect', agentId: 'local' },
		{ type: 'signIn', agentId: 'wss://a:1' },
		{ type: 'stopForwarding', agentId: 'local', forwardId: 'f1' },
		{ type: 'openInBrowser', agentId: 'local', forwardId: 'f1' },
		{ type: 'previewInEditor', agentId: 'ws://a:1', forwardId: 'f1' },
		{ type: 'copyLocalAddress', agentId: 'local', forwardId: 'f1' },
		{ type: 'stopProxy', agentId: 'ws://a:1', forwardId: 'p1' },
		{ type: 'copyProxyAddress', agentId: 'ws://a:1', forwardId: 'p1' },
		{ type: 'forwardDetected', agentId: 'local', host: '0.0.0.0', port: 3000 },
		{ type: 'setLabel', agentId: 'local', host: 'localhost', port: 3000 },
	];
	for (const message of valid) {
		it(`accepts ${JSON.stringify(message)}`, () => assert.deepEqual(parseFromWebview(message), message));
	}

	it('keeps only the known fields', () => {
		assert.deepEqual(parseFromWebview({ type: 'ready', extra: 'x' }), { type: 'ready' });
	});

	const invalid: unknown[] = [
		null,
		'ready',
		[],
		{},
		{ type: 'runShell', command: 'rm -rf /' },
		{ type: 'disconnect' },
		{ type: 'disconnect', agentId: '' },
		{ type: 'signIn' },
		{ type: 'disconnect', agentId: 'x'.repeat(513) },
		{ type: 'stopForwarding', agentId: 'local' },
		{ type: 'previewInEditor', agentId: 'local' },
		{ type: 'previewInEditor', agentId: 'local', forwardId: 7 },
		{ type: 'stopProxy', agentId: 'ws://a:1' },
		{ type: 'copyProxyAddress', forwardId: 'p1' },
		{ type: 'turnOnTunnelAccess ' },
		{ type: 'forwardDetected', agentId: 'local', host: 'h', port: 0 },
		{ type: 'forwardDetected', agentId: 'local', host: 'h', port: 70000 },
		{ type: 'setLabel', agentId: 'local', host: 'h', port: '3000' },
	];
	for (const message of invalid) {
		it(`refuses ${JSON.stringify(message)?.slice(0, 60)}`, () =>
			assert.equal(parseFromWebview(message), undefined));
	}
});

describe('row context from webview/context menus', () => {
	it('reads a forward row, with the keys VS Code adds', () => {
		assert.deepEqual(
			parseRowContext({
				webview: 'berth.portsView',
				webviewSection: 'forward',
				berthAgentId: 'local',
				berthForwardId: 'f1',
				berthHost: 'localhost',
				berthPort: 3000,
				preventDefaultContextMenuItems: true,
			}),
			{
				webviewSection: 'forward',
				berthAgentId: 'local',
				berthForwardId: 'f1',
				berthHost: 'localhost',
				berthPort: 3000,
				preventDefaultContextMenuItems: true,
			},
		);
	});

	it('reads every section a row can have', () => {
		for (const section of ['forward', 'remoteForward', 'proxy', 'detected', 'agent', 'localAgent']) {
			assert.equal(
				parseRowContext({ webviewSection: section, berthAgentId: 'a', berthAgentStatus: 'failed' })
					?.webviewSection,
				section,
			);
		}
	});

	it('refuses anything that is not one of our rows', () => {
		assert.equal(parseRowContext(undefined), undefined);
		assert.equal(parseRowContext('local'), undefined);
		assert.equal(parseRowContext({ webviewSection: 'other', berthAgentId: 'local' }), undefined);
		assert.equal(parseRowContext({ webviewSection: 'forward' }), undefined);
	});

	it('drops invalid optional fields', () => {
		assert.deepEqual(parseRowContext({ webviewSection: 'detected', berthAgentId: 'a', berthPort: 0 }), {
			webviewSection: 'detected',
			berthAgentId: 'a',
			preventDefaultContextMenuItems: true,
		});
	});
});
