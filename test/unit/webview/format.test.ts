import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	addressTitle,
	formatAddress,
	formatBytes,
	formatConnections,
	formatOrigin,
	formatPort,
	formatProcess,
	formatRate,
	formatState,
	formatTraffic,
	formatTrafficRate,
	processTitle,
	rowLabel,
	trafficTitle,
} from '../../../webview/format';
import { detectedRow, localRow, proxyRow, remoteRow } from './rows';

describe('table formatting', () => {
	it('writes byte counts and rates in binary units', () => {
		assert.deepEqual([0, 999, 1024, 1536, 10 * 1024, 5 * 1024 * 1024, -1].map(formatBytes), [
			'0 B',
			'999 B',
			'1.0 KB',
			'1.5 KB',
			'10 KB',
			'5.0 MB',
			'0 B',
		]);
		assert.equal(formatRate(1.2 * 1024 * 1024), '1.2 MB/s');
		assert.equal(formatRate(0.4), '0 B/s');
	});

	it('writes the port as the Ports view does', () => {
		assert.equal(formatPort({ host: 'localhost', port: 3000 }), '3000');
		assert.equal(formatPort({ host: '0.0.0.0', port: 3000, label: 'Web' }), 'Web (3000)');
		assert.equal(formatPort({ host: 'db', port: 5432 }), 'db:5432');
		assert.equal(formatPort({ host: 'fe80::1', port: 80 }), '[fe80::1]:80');
	});

	it('names origins for every kind of row', () => {
		assert.equal(formatOrigin(localRow({ origin: 'auto' })), 'Auto Forwarded');
		assert.equal(formatOrigin(localRow()), 'User Forwarded');
		assert.equal(formatOrigin(remoteRow()), 'Forwarded to Agent');
		assert.equal(formatOrigin(detectedRow()), 'Detected');
	});

	it('gives each state its icon, tone and words', () => {
		const look = (row: Parameters<typeof formatState>[0]) => {
			const { icon, tone, text } = formatState(row);
			return `${icon} ${tone} ${text}`;
		};
		assert.deepEqual(
			[
				localRow(),
				localRow({ problem: { kind: 'noListener', message: 'x' } }),
				localRow({ problem: { kind: 'connectionFailed', message: 'x' } }),
				localRow({ state: 'failed', problem: { kind: 'forwardFailed', message: 'x' } }),
				remoteRow({ problem: { kind: 'agentOffline', message: 'x' } }),
				localRow({ problem: { kind: 'reconnecting', message: 'x' } }),
				detectedRow(),
			].map(look),
			[
				'circle-filled ok Forwarded',
				'warning warning No Listener',
				'warning warning Connection Failed',
				'error error Failed',
				'circle-outline warning Agent Offline',
				'refresh muted Reconnecting',
				'circle-outline muted Not Forwarded',
			],
		);
	});

	it('shows connections, traffic totals and the rate for forwards only', () => {
		const row = localRow({
			openConnections: 1,
			totalConnections: 4,
			bytesIn: 2048,
			bytesOut: 10,
			rateIn: 1024 * 1024,
			rateOut: 200 * 1024,
		});
		assert.equal(formatConnections(row), '1 open · 4 total');
		assert.equal(formatTraffic(row), '↓ 2.0 KB ↑ 10 B');
		assert.equal(formatTrafficRate(row), '1.2 MB/s');
		assert.equal(formatTrafficRate(localRow()), '', 'idle: no rate');
		assert.match(
			trafficTitle(row),
			/^↓ 2\.0 KB from port 3000 to its clients \(1\.0 MB\/s now\)\n↑ 10 B from the clients/,
		);
		assert.equal(formatConnections(detectedRow()), '');
		assert.equal(formatTraffic(detectedRow()), '');
	});

	it('shows the usable address, with the plain local one in its tooltip', () => {
		const proxied = localRow({ url: 'https://host.example/proxy/40259/' });
		assert.equal(formatAddress(proxied), 'https://host.example/proxy/40259/');
		assert.equal(addressTitle(proxied), 'https://host.example/proxy/40259/\nLocal address: 127.0.0.1:40259');
		assert.equal(formatAddress(localRow()), '127.0.0.1:40259', 'before the address is resolved');
		assert.equal(
			addressTitle(localRow({ url: 'http://127.0.0.1:40259/' })),
			'Local address: 127.0.0.1:40259',
		);
		assert.equal(formatAddress(remoteRow()), '127.0.0.1:8080 on the agent');
		assert.match(addressTitle(remoteRow()), /comes to localhost:3000 here/);
	});

	it('puts what is wrong in the Running Process cell, where it is seen', () => {
		const row = localRow({
			process: 'python3 -m http.server (42)',
			lastError: 'connect ECONNREFUSED 127.0.0.1:3000',
			problem: { kind: 'noListener', message: 'Nothing is listening on 3000 on vm' },
		});
		assert.equal(formatProcess(row), 'Nothing is listening on 3000 on vm');
		assert.equal(
			processTitle(row),
			'Nothing is listening on 3000 on vm\nProcess: python3 -m http.server (42)\nLast connection failure: connect ECONNREFUSED 127.0.0.1:3000',
		);
		assert.equal(formatProcess(localRow({ process: 'node (1)' })), 'node (1)');
		assert.equal(formatProcess(remoteRow()), '');
		assert.match(rowLabel(row), /^Port 3000, No Listener, User Forwarded, Nothing is listening/);
	});

	it('shows a proxy row: its mode in the Port cell, where its traffic leaves, Running when well', () => {
		const socks = proxyRow({ openConnections: 2, totalConnections: 5, bytesIn: 4096, bytesOut: 100 });
		const share = proxyRow({ mode: 'share', label: 'Shared network', port: 9870, exit: 'this machine' });
		assert.equal(formatPort(socks), 'SOCKS proxy (1080)');
		assert.equal(formatPort(share), 'Shared network (9870)');
		assert.deepEqual([formatOrigin(socks), formatOrigin(share)], ['SOCKS Proxy', 'Shared Network']);
		assert.deepEqual(formatState(socks), { icon: 'circle-filled', tone: 'ok', text: 'Running' });
		assert.equal(formatAddress(socks), '127.0.0.1:1080');
		assert.equal(formatAddress(share), '127.0.0.1:9870 on the agent');
		assert.match(addressTitle(socks), /leaves from vm\.\ncurl --socks5-hostname 127\.0\.0\.1:1080 URL/);
		assert.match(addressTitle(share), /On the agent: HTTPS_PROXY=http:\/\/127\.0\.0\.1:9870 npm install$/);
		assert.equal(formatProcess(socks), 'Traffic leaves from vm');
		assert.equal(formatProcess(share), 'Traffic leaves from this machine');
		assert.equal(formatConnections(socks), '2 open · 5 total');
		assert.equal(formatTraffic(socks), '↓ 4.0 KB ↑ 100 B');
		assert.match(trafficTitle(socks), /^↓ 4\.0 KB from the targets to the proxy’s clients/);
		assert.equal(
			rowLabel(share),
			'Port Shared network (9870), Running, Shared Network, 127.0.0.1:9870 on the agent',
		);
	});

	it('says when a proxy’s agent is away, and keeps a failed connection in the tooltip only', () => {
		const away = proxyRow({ problem: { kind: 'agentOffline', message: 'Waiting for vm to reconnect' } });
		assert.equal(formatState(away).text, 'Agent Offline');
		assert.equal(formatProcess(away), 'Waiting for vm to reconnect');
		const failed = proxyRow({ lastError: 'connect ECONNREFUSED 10.0.0.1:80' });
		assert.equal(formatState(failed).text, 'Running');
		assert.equal(
			processTitle(failed),
			'Traffic leaves from vm\nLast connection failure: connect ECONNREFUSED 10.0.0.1:80',
		);
	});
});
