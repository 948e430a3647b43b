import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTunnelReach, shareableTunnelUrl } from '../../../extension/agent/tunnel-reach';

describe('who can reach tunnel access', () => {
	it('gives the ssh -L line for loopback', () => {
		const address = { host: '127.0.0.1', port: 8765, machine: 'devbox' };
		assert.equal(
			describeTunnelReach(address),
			'Loopback only: reach it from another machine with `ssh -L 8765:127.0.0.1:8765 devbox`.',
		);
		assert.equal(shareableTunnelUrl(address), 'ws://127.0.0.1:8765');
		assert.match(describeTunnelReach({ ...address, host: '::1' }), /ssh -L 8765:\[::1\]:8765 devbox/);
	});

	it('names the machine for every interface, and says it is not encrypted', () => {
		const address = { host: '0.0.0.0', port: 8765, machine: 'devbox' };
		assert.equal(shareableTunnelUrl(address), 'ws://devbox:8765');
		assert.match(
			describeTunnelReach(address),
			/^Reachable from other machines .* `ws:\/\/devbox:8765`, \*\*not encrypted\*\*/,
		);
		assert.equal(shareableTunnelUrl({ ...address, host: '192.168.1.5' }), 'ws://192.168.1.5:8765');
	});
});
