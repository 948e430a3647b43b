/** Rows of each kind for the webview's unit tests. */

import type { DetectedPortRow, LocalForwardRow, ProxyRow, RemoteForwardRow } from '../../../protocol/webview';

export function localRow(extra: Partial<LocalForwardRow> = {}): LocalForwardRow {
	return {
		kind: 'local',
		key: 'local|f|f1',
		agentId: 'local',
		forwardId: 'f1',
		host: 'localhost',
		port: 3000,
		origin: 'user',
		state: 'active',
		openConnections: 0,
		totalConnections: 0,
		bytesIn: 0,
		bytesOut: 0,
		rateIn: 0,
		rateOut: 0,
		localAddress: '127.0.0.1:40259',
		...extra,
	};
}

export function remoteRow(extra: Partial<RemoteForwardRow> = {}): RemoteForwardRow {
	return {
		kind: 'remote',
		key: 'ws://a:1|r|r1',
		agentId: 'ws://a:1',
		forwardId: 'r1',
		host: 'localhost',
		port: 3000,
		origin: 'user',
		state: 'active',
		openConnections: 0,
		totalConnections: 0,
		bytesIn: 0,
		bytesOut: 0,
		rateIn: 0,
		rateOut: 0,
		agentAddress: '127.0.0.1:8080',
		...extra,
	};
}

/** A SOCKS proxy through agent ws://a:1 (mode `share` with `{ mode: 'share', exit: 'this machine' }`). */
export function proxyRow(extra: Partial<ProxyRow> = {}): ProxyRow {
	return {
		kind: 'proxy',
		key: 'ws://a:1|p|p1',
		agentId: 'ws://a:1',
		forwardId: 'p1',
		host: '127.0.0.1',
		port: 1080,
		label: 'SOCKS proxy',
		origin: 'user',
		state: 'active',
		openConnections: 0,
		totalConnections: 0,
		bytesIn: 0,
		bytesOut: 0,
		rateIn: 0,
		rateOut: 0,
		mode: 'socks',
		exit: 'vm',
		...extra,
	};
}

export function detectedRow(extra: Partial<DetectedPortRow> = {}): DetectedPortRow {
	return {
		kind: 'detected',
		key: 'ws://a:1|d|0.0.0.0:5000',
		agentId: 'ws://a:1',
		host: '0.0.0.0',
		port: 5000,
		...extra,
	};
}
