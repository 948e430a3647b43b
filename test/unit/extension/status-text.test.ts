import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRemoteAgents, describeTunnelStatus } from '../../../extension/status-text';

describe('the tunnel access status item', () => {
	it('says off, restricted, starting, on with counts, stopping and error', () => {
		const text = (input: Parameters<typeof describeTunnelStatus>[0]) => describeTunnelStatus(input).text;
		assert.equal(text({ agent: { type: 'off' }, trusted: true, forwards: 0 }), '$(circle-slash) Berth: off');
		assert.equal(
			text({ agent: { type: 'off' }, trusted: true, forwards: 2 }),
			'$(circle-slash) Berth: off · 2 forwards',
		);
		assert.equal(
			text({ agent: { type: 'off' }, trusted: false, forwards: 0 }),
			'$(workspace-untrusted) Berth: restricted',
		);
		assert.equal(
			text({ agent: { type: 'starting' }, trusted: true, forwards: 0 }),
			'$(loading~spin) Berth: starting',
		);
		assert.equal(
			text({ agent: { type: 'on', url: 'ws://127.0.0.1:5', clients: 1 }, trusted: true, forwards: 1 }),
			'$(radio-tower) Berth: 1 client · 1 forward',
		);
		assert.equal(
			text({ agent: { type: 'stopping' }, trusted: true, forwards: 0 }),
			'$(loading~spin) Berth: stopping',
		);
		const error = describeTunnelStatus({
			agent: { type: 'error', message: 'boom' },
			trusted: true,
			forwards: 0,
		});
		assert.equal(error.text, '$(error) Berth: error');
		assert.equal(error.severity, 'error');
		assert.match(error.tooltip.join(' '), /boom/);
	});

	it('puts the agent URL in the tooltip while on', () => {
		const status = describeTunnelStatus({
			agent: { type: 'on', url: 'ws://127.0.0.1:5', clients: 0 },
			trusted: true,
			forwards: 0,
		});
		assert.match(status.tooltip.join('\n'), /ws:\/\/127\.0\.0\.1:5/);
	});
});

describe('the remote agents status item', () => {
	it('is hidden without remote agents', () => {
		assert.equal(describeRemoteAgents([]), undefined);
	});

	it('says the worst state first', () => {
		const agents = [
			{ id: 'ws://a:1', state: { type: 'connected' as const } },
			{ id: 'ws://b:2', state: { type: 'reconnecting' as const, attempt: 1, delayMs: 0 } },
		];
		assert.equal(describeRemoteAgents(agents.slice(0, 1))?.text, '$(plug) Berth: 1 agent');
		assert.equal(describeRemoteAgents(agents)?.text, '$(sync~spin) Berth: reconnecting');
		assert.equal(
			describeRemoteAgents([...agents, { id: 'ws://c:3', state: { type: 'failed', message: 'x' } }])
				?.severity,
			'error',
		);
	});
});
