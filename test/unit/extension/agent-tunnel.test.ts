import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { Emitter } from '../../../protocol/lifecycle';
import { statusWithTunnel, tunnelOwning, type AgentTunnel } from '../../../extension/agent/agent-tunnel';
import type { SshTunnelState } from '../../../server/client/index';
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

describe('tunnelOwning', () => {
	it('reads the tunnel live, and ends what it owns with it', () => {
		const changes = new Emitter<SshTunnelState>();
		const ended: string[] = [];
		let state: SshTunnelState = { type: 'connected', agentPort: 41000, agentPid: 7, renewed: false };
		const tunnel: AgentTunnel = {
			address: { host: '127.0.0.1', port: 40000, secure: false, path: '/', display: 'ssh://devbox' },
			token: 't'.repeat(43),
			get state() {
				return state;
			},
			onDidChangeState: changes.event,
			reconnectNow: () => {
				ended.push('hurried');
				return true;
			},
			dispose: () => ended.push('tunnel'),
		};
		const owned = tunnelOwning(tunnel, { dispose: () => ended.push('ticket') }, undefined);
		state = { type: 'reconnecting', attempt: 1, delayMs: 0 };
		assert.equal(owned.state.type, 'reconnecting');
		assert.equal(owned.address.port, 40000);
		const seen: string[] = [];
		owned.onDidChangeState((s) => seen.push(s.type));
		changes.fire(state);
		assert.deepEqual(seen, ['reconnecting']);
		assert.equal(owned.reconnectNow(), true);
		owned.dispose();
		assert.deepEqual(ended, ['hurried', 'tunnel', 'ticket']);
		changes.dispose();
	});
});
