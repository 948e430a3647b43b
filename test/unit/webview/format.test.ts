import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	formatBytes,
	formatConnections,
	formatOrigin,
	formatPort,
	formatState,
	formatTraffic,
} from '../../../webview/format';

describe('table formatting', () => {
	it('writes byte counts in binary units', () => {
		assert.deepEqual([0, 999, 1024, 1536, 10 * 1024, 5 * 1024 * 1024, -1].map(formatBytes), [
			'0 B',
			'999 B',
			'1.0 KB',
			'1.5 KB',
			'10 KB',
			'5.0 MB',
			'0 B',
		]);
	});

	it('writes the port as the Ports view does', () => {
		assert.equal(formatPort({ host: 'localhost', port: 3000 }), '3000');
		assert.equal(formatPort({ host: '0.0.0.0', port: 3000, label: 'Web' }), 'Web (3000)');
		assert.equal(formatPort({ host: 'db', port: 5432 }), 'db:5432');
		assert.equal(formatPort({ host: 'fe80::1', port: 80 }), '[fe80::1]:80');
	});

	it('names origins and states', () => {
		assert.equal(formatOrigin({ origin: 'auto', state: 'active' }), 'Auto Forwarded');
		assert.equal(formatOrigin({ origin: 'user', state: 'active' }), 'User Forwarded');
		assert.equal(formatOrigin({ state: 'detected' }), 'Detected');
		assert.deepEqual(
			(['active', 'failed', 'detected'] as const).map((state) => formatState({ state })),
			['Forwarded', 'Failed', 'Not forwarded'],
		);
	});

	it('shows connections and traffic for forwards only', () => {
		const forward = {
			state: 'active' as const,
			openConnections: 1,
			totalConnections: 4,
			bytesIn: 2048,
			bytesOut: 10,
		};
		assert.equal(formatConnections(forward), '1 open · 4 total');
		assert.equal(formatTraffic(forward), '↓ 2.0 KB ↑ 10 B');
		assert.equal(formatConnections({ ...forward, state: 'detected' }), '');
		assert.equal(formatTraffic({ ...forward, state: 'detected' }), '');
	});
});
