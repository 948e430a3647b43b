import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SocksClient } from 'socks';
import type { AgentProcess } from './agent-process';
import { waitFor } from './wait';

/** What a real curl said: its exit code (97: SOCKS failure, 56: CONNECT refused...), stdout, stderr. */
export interface CurlResult {
	readonly code: number;
	readonly stdout: string;
	readonly stderr: string;
}

/** Runs the real curl (silent, errors shown, bounded in time). */
export function curl(args: readonly string[], timeoutS = 20): Promise<CurlResult> {
	return new Promise((resolve) => {
		execFile('curl', ['-sS', '-m', String(timeoutS), ...args], (error, stdout, stderr) => {
			const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
			resolve({ code, stdout, stderr });
		});
	});
}

/** An HTTP server on loopback that answers `hello <path>` (with keep-alive, as Node's does). */
export async function startWeb(): Promise<{ port: number; close(): Promise<void> }> {
	const server = createServer((req, res) => res.end(`hello ${req.url}`));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** How many connections the agent's debug log says provider `name` carried. */
export function providerLines(agent: AgentProcess, name: string): number {
	return agent.stderr.filter(
		(l) => l.includes('proxied through a provider') && l.includes(`provider=${name} `),
	).length;
}

/** Waits until the agent logged `total` proxied connections (its stderr reaches the test a little late). */
export async function loggedConnections(agent: AgentProcess, total: number): Promise<void> {
	await waitFor(
		() => agent.stderr.filter((l) => l.includes('proxied through a provider')).length >= total || undefined,
		`the agent to log ${total} proxied connections`,
	);
}

/**
 * How long a SOCKS5 CONNECT through a test proxy may take: generous, since suites open 1,000 at
 * once on a shared two-core machine; a proxy that stalls still fails the test.
 */
const SOCKS_CONNECT_TIMEOUT_MS = 60_000;

/** A SOCKS5 CONNECT to host:port through the proxy on 127.0.0.1:proxyPort (the `socks` package: a real client). */
export function socksConnect(
	proxyPort: number,
	host: string,
	port: number,
	credentials?: { readonly userId: string; readonly password?: string },
): Promise<Socket> {
	return SocksClient.createConnection({
		proxy: {
			host: '127.0.0.1',
			port: proxyPort,
			type: 5,
			...(credentials ? { userId: credentials.userId, password: credentials.password ?? '' } : {}),
		},
		command: 'connect',
		destination: { host, port },
		timeout: SOCKS_CONNECT_TIMEOUT_MS,
	}).then((info) => info.socket);
}
