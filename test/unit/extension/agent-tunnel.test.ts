import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { statusWithTunnel } from '../../../extension/agent/agent-tunnel';
import type { ConnectionStatus } from '../../../extension/agent/connection';

const CONNECTED: ConnectionStatus = { type: 'connected', host: 'devbox', version: '0.1.0' };
const LINK_RECONNECTING: ConnectionStatus = { type: 'reconnecting', attempt: 1, delayMs: 0 };

describe('statusWithTunnel', () => {
	it("is the link's status while the tunnel is up, or without a tunnel", () => {
		assert.equal(statusWithTunnel(CONNECTED, undefined), CONNECTED);
		const up = { type: 'connected', agentPort: 41000, agentPid: 7, renewed: true } as const;
		assert.equal(statusWithTunnel(LINK_RECONNECTING, up), LINK_RECONNECTING);
	});

	it("is the tunnel's reconnecting while ssh is down, whatever the link says", () => {
		const down = {
			type: 'reconnecting',
			attempt: 2,
			delayMs: 5000,
			lastError: 'ssh exited with status 255',
		} as const;
		assert.deepEqual(statusWithTunnel(CONNECTED, down), {
			type: 'reconnecting',
			attempt: 2,
			delayMs: 5000,
			lastError: 'ssh exited with status 255',
		});
	});

	it("fails with the tunnel's words when it failed for good (no Node.js any more)", () => {
		const error = new BerthError('BERTH_ERR_NO_NODE', 'no node on devbox: set berth.ssh.nodePath');
		assert.deepEqual(statusWithTunnel(LINK_RECONNECTING, { type: 'failed', error }), {
			type: 'failed',
			message: 'no node on devbox: set berth.ssh.nodePath',
		});
	});
});
