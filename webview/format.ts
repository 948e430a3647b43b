/** How the table writes numbers, states and tooltips. Pure (no DOM), so it is unit-tested. */

import type { ForwardRow, PortRow } from '../protocol/webview';
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

/** 1.2 MB/s (whole bytes below 1 KB/s). */
export function formatRate(bytesPerSecond: number): string {
	return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** The Port column, as VS Code writes it: `label (3000)`, `3000`, or `host:port` for other hosts. */
export function formatPort(row: Pick<PortRow, 'host' | 'port' | 'label'>): string {
	const port = LOCAL_HOSTS.has(row.host.toLowerCase())
		? String(row.port)
		: formatHostPort(row.host, row.port);
	return row.label ? `${row.label} (${port})` : port;
}

/** The Origin column: the Ports view's words, and ours for a reverse forward and a proxy. */
export function formatOrigin(row: PortRow): string {
	switch (row.kind) {
		case 'detected':
			return 'Detected';
		case 'remote':
			return 'Forwarded to Agent';
		case 'proxy':
			return row.mode === 'socks' ? 'SOCKS Proxy' : 'Shared Network';
		case 'local':
			return row.origin === 'auto' ? 'Auto Forwarded' : 'User Forwarded';
	}
}

/** How a row's state looks: the icon, its colour (tone) and the State column's words. */
export interface StateLook {
	readonly icon: 'circle-filled' | 'circle-outline' | 'refresh' | 'warning' | 'error';
	readonly tone: 'ok' | 'muted' | 'warning' | 'error';
	readonly text: string;
}

/** The State column and the status icon at the start of the Port cell. */
export function formatState(row: PortRow): StateLook {
	if (row.kind === 'detected') {
		return { icon: 'circle-outline', tone: 'muted', text: 'Not Forwarded' };
	}
	switch (row.problem?.kind) {
		case 'forwardFailed':
			return { icon: 'error', tone: 'error', text: 'Failed' };
		case 'agentOffline':
			return { icon: 'circle-outline', tone: 'warning', text: 'Agent Offline' };
		case 'reconnecting':
			// Not a failure: the connections wait for the agent and go on.
			return { icon: 'refresh', tone: 'muted', text: 'Reconnecting' };
		case 'noListener':
			return { icon: 'warning', tone: 'warning', text: 'No Listener' };
		case 'connectionFailed':
			return { icon: 'warning', tone: 'warning', text: 'Connection Failed' };
		case undefined:
			return { icon: 'circle-filled', tone: 'ok', text: row.kind === 'proxy' ? 'Running' : 'Forwarded' };
	}
}

/** The Connections column: open now and in total (forwards only). */
export function formatConnections(row: PortRow): string {
	return row.kind === 'detected' ? '' : `${row.openConnections} open · ${row.totalConnections} total`;
}

/** The Traffic column's totals: bytes towards the clients (↓) and towards the port (↑). */
export function formatTraffic(row: PortRow): string {
	return row.kind === 'detected' ? '' : `↓ ${formatBytes(row.bytesIn)} ↑ ${formatBytes(row.bytesOut)}`;
}

/** The Traffic column's rate, both ways together, while data moves; empty when idle. */
export function formatTrafficRate(row: PortRow): string {
	if (row.kind === 'detected') {
		return '';
	}
	const rate = row.rateIn + row.rateOut;
	return rate > 0 ? formatRate(rate) : '';
}

/** The Traffic cell's tooltip: what each arrow means, totals and rates. */
export function trafficTitle(row: ForwardRow): string {
	const port = formatPort(row);
	const [from, to] =
		row.kind === 'proxy'
			? ['from the targets to the proxy’s clients', 'from the clients to their targets']
			: [`from port ${port} to its clients`, `from the clients to port ${port}`];
	return (
		`↓ ${formatBytes(row.bytesIn)} ${from} (${formatRate(row.rateIn)} now)\n` +
		`↑ ${formatBytes(row.bytesOut)} ${to} (${formatRate(row.rateOut)} now)\n` +
		`${formatConnections(row)} connections`
	);
}

/** The Forwarded Address column: the usable address (a link for a local forward). */
export function formatAddress(row: PortRow): string {
	switch (row.kind) {
		case 'local':
			return row.url ?? row.localAddress;
		case 'remote':
			return `${row.agentAddress} on the agent`;
		case 'proxy':
			return row.mode === 'socks' ? proxyAddress(row) : `${proxyAddress(row)} on the agent`;
		case 'detected':
			return '';
	}
}

/** Where a proxy row's port listens, `127.0.0.1:1080` (here for `socks`, on the agent for `share`). */
export function proxyAddress(row: Pick<PortRow, 'host' | 'port'>): string {
	return formatHostPort(row.host, row.port);
}

/** The Forwarded Address tooltip: where it listens, and what the link opens. */
export function addressTitle(row: PortRow): string {
	switch (row.kind) {
		case 'local':
			return row.url && row.url !== `http://${row.localAddress}/`
				? `${row.url}\nLocal address: ${row.localAddress}`
				: `Local address: ${row.localAddress}`;
		case 'remote':
			return `The agent listens at ${row.agentAddress}; each connection comes to ${formatHostPort(row.host, row.port)} here`;
		case 'proxy':
			return row.mode === 'socks'
				? `A SOCKS5 and HTTP proxy on this machine; its traffic leaves from ${row.exit}.\n` +
						`curl --socks5-hostname ${proxyAddress(row)} URL, or HTTPS_PROXY=http://${proxyAddress(row)}`
				: `A SOCKS5 and HTTP proxy on the agent at ${proxyAddress(row)}; its traffic leaves from this machine.\n` +
						`On the agent: HTTPS_PROXY=http://${proxyAddress(row)} npm install`;
		case 'detected':
			return '';
	}
}

/** The Running Process column: what is wrong first (visible, not only a tooltip), else the process. */
export function formatProcess(row: PortRow): string {
	if (row.kind !== 'detected' && row.problem) {
		return row.problem.message;
	}
	switch (row.kind) {
		case 'remote':
			return '';
		case 'proxy':
			return `Traffic leaves from ${row.exit}`;
		case 'local':
		case 'detected':
			return row.process ?? '';
	}
}

/** The Running Process tooltip: the whole text, and the last failure when it is not already said. */
export function processTitle(row: PortRow): string {
	const lines = [formatProcess(row)];
	if (row.kind !== 'detected' && row.problem && row.kind === 'local' && row.process) {
		lines.push(`Process: ${row.process}`);
	}
	if (row.kind !== 'detected' && row.lastError && !lines[0]!.includes(row.lastError)) {
		lines.push(`Last connection failure: ${row.lastError}`);
	}
	return lines.filter((l) => l !== '').join('\n');
}

/** What a screen reader says for a row: the port, its state and the problem, and the address. */
export function rowLabel(row: PortRow): string {
	const state = formatState(row).text;
	const parts = [`Port ${formatPort(row)}`, state, formatOrigin(row)];
	if (row.kind !== 'detected' && row.problem) {
		parts.push(row.problem.message);
	}
	const address = formatAddress(row);
	if (address) {
		parts.push(address);
	}
	return parts.join(', ');
}
