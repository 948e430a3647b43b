/** How the table writes numbers and states. Pure (no DOM), so it is unit-tested. */

import type { PortRow } from '../protocol/webview';
import { formatHostPort } from '../protocol/host-port';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 0 B, 999 B, 1.2 KB, 34 MB (1 KB = 1024 B; one decimal below 10). */
export function formatBytes(bytes: number): string {
	let value = Math.max(0, bytes);
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit++;
	}
	const digits = unit === 0 || value >= 10 ? 0 : 1;
	return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** The Port column, as VS Code writes it: `label (3000)`, `3000`, or `host:port` for other hosts. */
export function formatPort(row: Pick<PortRow, 'host' | 'port' | 'label'>): string {
	const port = LOCAL_HOSTS.has(row.host) ? String(row.port) : formatHostPort(row.host, row.port);
	return row.label ? `${row.label} (${port})` : port;
}

/** The Origin column: Ports view words. */
export function formatOrigin(row: Pick<PortRow, 'origin' | 'state'>): string {
	if (row.state === 'detected') {
		return 'Detected';
	}
	return row.origin === 'auto' ? 'Auto Forwarded' : 'User Forwarded';
}

/** The State column. */
export function formatState(row: Pick<PortRow, 'state' | 'error'>): string {
	switch (row.state) {
		case 'active':
			return 'Forwarded';
		case 'failed':
			return 'Failed';
		case 'detected':
			return 'Not forwarded';
	}
}

/** The Connections column: open now and in total. */
export function formatConnections(
	row: Pick<PortRow, 'openConnections' | 'totalConnections' | 'state'>,
): string {
	return row.state === 'detected' ? '' : `${row.openConnections} open · ${row.totalConnections} total`;
}

/** The Traffic column: bytes towards local clients (↓) and towards the target (↑). */
export function formatTraffic(row: Pick<PortRow, 'bytesIn' | 'bytesOut' | 'state'>): string {
	return row.state === 'detected' ? '' : `↓ ${formatBytes(row.bytesIn)} ↑ ${formatBytes(row.bytesOut)}`;
}
