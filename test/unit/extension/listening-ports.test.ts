import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	applyPortsChanged,
	isForwardableHost,
	listeningPortKey,
} from '../../../extension/agent/listening-ports';

describe('listening ports from the agent', () => {
	it('applies a change: removed ones go, added ones replace the same socket, sorted by port', () => {
		const current = [
			{ host: '127.0.0.1', port: 3000 },
			{ host: '::', port: 5000 },
		];
		assert.deepEqual(
			applyPortsChanged(current, {
				added: [
					{ host: '::', port: 5000, pid: 9 },
					{ host: '0.0.0.0', port: 4000 },
				],
				removed: [{ host: '127.0.0.1', port: 3000 }],
			}),
			[
				{ host: '0.0.0.0', port: 4000 },
				{ host: '::', port: 5000, pid: 9 },
			],
		);
	});

	it('keys sockets by host and port, IPv6 in brackets', () => {
		assert.equal(listeningPortKey({ host: '::1', port: 80 }), '[::1]:80');
		assert.equal(listeningPortKey({ host: '127.0.0.1', port: 80 }), '127.0.0.1:80');
	});

	it('forwards loopback and all-interfaces listeners only', () => {
		assert.deepEqual(['127.0.0.1', '0.0.0.0', '::1', '::', '10.0.0.2', 'fe80::1'].map(isForwardableHost), [
			true,
			true,
			true,
			true,
			false,
			false,
		]);
	});
});
