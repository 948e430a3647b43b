import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	applyPortsChanged,
	isForwardableHost,
	listeningPortKey,
	parseListeningPortsResult,
	parsePortsChanged,
} from '../../../extension/agent/listening-ports';

describe('listening ports from the agent', () => {
	it('keeps valid entries of a listeningPorts answer', () => {
		assert.deepEqual(
			parseListeningPortsResult({
				ports: [
					{ host: '127.0.0.1', port: 3000, pid: 7, command: 'node app.js' },
					{ host: '::', port: 8080, pid: -1 },
					{ host: 'x', port: 0 },
					'junk',
				],
			}),
			[
				{ host: '127.0.0.1', port: 3000, pid: 7, command: 'node app.js' },
				{ host: '::', port: 8080 },
			],
		);
		assert.deepEqual(parseListeningPortsResult(undefined), []);
	});

	it('reads portsChanged events and refuses malformed ones', () => {
		assert.deepEqual(parsePortsChanged({ added: [{ host: '0.0.0.0', port: 1 }], removed: [] }), {
			added: [{ host: '0.0.0.0', port: 1 }],
			removed: [],
		});
		assert.equal(parsePortsChanged({ added: [] }), undefined);
	});

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
