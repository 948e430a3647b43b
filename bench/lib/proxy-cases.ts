/**
 * Issue 9's proxy cases, on the proxy paths (ssh -D, berth forward -D, Berth's reverse and relay
 * modes) and
 * direct loopback, with `ssh -D` as the peer of every ratio and goal:
 *
 * - proxy-throughput: iperf3 under proxychains4 (which does the SOCKS5 handshake inside iperf3's
 *   connect() and leaves the data path alone), 1 stream and -P 8;
 * - proxy-setup: connect + SOCKS5 handshake + first echoed byte, by the Node load client;
 * - proxy-idle: RSS per idle connection through the proxy, on each process.
 *
 * Issue 9 sets throughput bars for forward mode (1.5x) and relay mode (connector -> agent ->
 * provider, 1.0x); reverse mode is measured beside them, with no bar of its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseDef } from './case-def';
import { idleReport, measureIdle } from './idle-case';
import type { CaseId } from './options';
import type { PathDef, PathId } from './paths';
import { throughputRows, timeRows, type Peer, type ThroughputBar } from './peer-rows';
import { fixed } from './report';
import { runLoadClient } from './services';
import { measureThroughput } from './throughput';

export const PROXY_PEER: PathId = 'ssh-D';

const SSH_D: Peer = { id: PROXY_PEER, name: 'ssh -D' };

/** Issue 9's throughput bars, times ssh -D's: forward mode 1.5, relay mode 1.0. */
const THROUGHPUT_BARS: Partial<Record<PathId, ThroughputBar>> = {
	'berth-D': { factor: 1.5, goal: (what) => `proxy throughput (forward mode) ${what} >= 1.5x ssh -D` },
	'berth-relay': { factor: 1.0, goal: (what) => `proxy throughput (relay mode) ${what} >= 1.0x ssh -D` },
};

/** A proxychains4 config that sends every connection through the SOCKS5 proxy on `port`. */
function proxychainsConfig(workDir: string, port: number): string {
	const file = join(workDir, `proxychains.${port}.conf`);
	writeFileSync(
		file,
		[
			'strict_chain',
			'quiet_mode',
			'tcp_read_time_out 15000',
			'tcp_connect_time_out 8000',
			'[ProxyList]',
			`socks5 127.0.0.1 ${port}`,
			'',
		].join('\n'),
	);
	return file;
}

/** The load client's last argument through a proxy: the target it asks the proxy for. */
function socksArgs(path: PathDef, target: number): string[] {
	return path.kind === 'proxy' ? [String(target)] : [];
}

const proxyThroughput: CaseDef = {
	id: 'proxy-throughput',
	title: 'Proxy throughput, iperf3 under proxychains4, Gbit/s received',
	target: 'iperf',
	proxy: true,
	applies: () => true,
	measure(env, relay, path) {
		if (path.kind !== 'proxy') {
			return measureThroughput(env, relay.port);
		}
		const config = proxychainsConfig(env.workDir, relay.port);
		return measureThroughput(env, env.iperf.port, ['proxychains4', '-q', '-f', config]);
	},
	describe: (v) => `1 stream ${fixed(v.one, 2)}, 8 streams ${fixed(v.eight, 2)} Gbit/s`,
	report(collected, paths, settings) {
		const { rows, goals } = throughputRows(collected, paths, SSH_D, (path) => THROUGHPUT_BARS[path.id]);
		return {
			table: {
				title: `Proxy throughput, iperf3 -t ${settings.iperfSeconds} under proxychains4 (SOCKS5), Gbit/s received (min / median / max); ratios of medians`,
				headers: [
					'path',
					'1 stream',
					'8 streams (-P 8)',
					'1 / direct',
					'8 / direct',
					'1 / ssh -D',
					'8 / ssh -D',
				],
				rows,
				notes: [
					"proxychains4 (strict chain, one socks5 proxy) makes each of iperf3's connections (its control connection and every stream) a SOCKS5 CONNECT to the iperf3 server; the bytes then flow on iperf3's own socket, untouched. Direct: iperf3 alone.",
					'Goals: forward mode (berth forward -D) >= 1.5x ssh -D for 1 and 8 streams; relay mode (berth connector -> berth server -r -> berth provider) >= 1.0x. Reverse mode (berth server -r + berth provider) has no bar of its own.',
				],
			},
			goals,
		};
	},
};

const proxySetup: CaseDef = {
	id: 'proxy-setup',
	title: 'Proxy connection setup',
	target: 'echo',
	proxy: true,
	applies: () => true,
	async measure(env, relay, path) {
		const { setupWarmup, setupCount } = env.settings;
		const socks = socksArgs(path, env.echo.port);
		const result = await runLoadClient(
			env.benchDir,
			['connect', String(relay.port), String(setupWarmup), String(setupCount), ...socks],
			300_000,
		);
		return { p50: result.p50!, p99: result.p99!, mean: result.mean! };
	},
	describe: (v) => `median ${fixed(v.p50, 0)} µs, p99 ${fixed(v.p99, 0)} µs`,
	report(collected, paths, settings) {
		const { rows, goals } = timeRows(
			collected,
			paths,
			SSH_D,
			[
				{ label: 'median', metric: 'p50' },
				{ label: 'p99', metric: 'p99' },
			],
			(label) => `connect + SOCKS5 + first byte ${label} <= ssh -D`,
		);
		return {
			table: {
				title: `Proxy connection setup: connect, SOCKS5 handshake, write 1 byte, echoed byte back; ${settings.setupCount} connections one after another, after ${settings.setupWarmup} warm-up: µs (min / median / max)`,
				headers: ['path', 'median', 'p99', 'median added over direct', 'median / ssh -D', 'p99 / ssh -D'],
				rows,
				notes: [
					'The handshake goes step by step, as curl does: greeting, method reply; CONNECT 127.0.0.1:PORT, reply (sent once the far side reached the echo server); then the byte. Direct: no proxy, no handshake.',
					"Goal: Berth's median and p99 <= ssh -D's.",
				],
			},
			goals,
		};
	},
};

const proxyIdle: CaseDef = {
	id: 'proxy-idle',
	title: 'Idle proxied connections',
	target: 'echo',
	proxy: true,
	applies: (path) => path.kind === 'proxy',
	measure: (env, relay) => measureIdle(env, relay, env.echo.port),
	describe: (v) =>
		`${v['open.full']} open; KiB/conn proxy side ${fixed(v['client.perConn'], 1)}, ` +
		(v['middle.perConn'] === undefined ? '' : `relay ${fixed(v['middle.perConn'], 1)}, `) +
		`exit side ${fixed(v['server.perConn'], 1)}`,
	report: (collected, paths, settings) =>
		idleReport(collected, paths, settings, {
			peer: PROXY_PEER,
			peerName: 'ssh -D',
			sideLabels: {
				'ssh-D': { client: 'ssh client (-D port)', server: 'sshd session processes' },
				'berth-D': { client: 'berth forward -D (proxy port)', server: 'berth server' },
				'berth-reverse': { client: 'berth server -r (proxy port)', server: 'berth provider' },
				'berth-relay': {
					client: 'berth connector (proxy port)',
					middle: 'berth server -r (relays)',
					server: 'berth provider',
				},
			},
			what: 'SOCKS5-proxied',
			goal: 'idle RSS per proxied TCP connection',
			goalNote:
				'Each connection is a SOCKS5 CONNECT to the echo server. Goal: <= 4 KiB per connection on each process (the one with the proxy port, in relay mode the agent between, and the one traffic leaves from). UDP associations are not measured.',
		}),
};

export const PROXY_CASES: Readonly<Record<Extract<CaseId, `proxy-${string}`>, CaseDef>> = {
	'proxy-throughput': proxyThroughput,
	'proxy-setup': proxySetup,
	'proxy-idle': proxyIdle,
};
