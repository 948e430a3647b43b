import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import {
	spawnCli,
	startAgent,
	tempDir,
	type AgentProcess,
	type CliProcess,
	type StartAgentOptions,
} from './agent-process';
import { waitFor } from './wait';

/**
 * Each of the proxy's modes started for real (dist/server.js), so one scenario can run through
 * every mode: forward (`forward -D`), reverse (`server -r` + `provider`), relay (`server -r
 * --connector-token-file` + `provider` + `connector`) and autonomy (`server -r -a` + a provider
 * that declares its connector's token + `connector`).
 */
export type ProxyMode = 'forward' | 'reverse' | 'relay' | 'autonomy';
export const PROXY_MODES: readonly ProxyMode[] = ['forward', 'reverse', 'relay', 'autonomy'];

const PROXY_LINE = /^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/;
const START_TIMEOUT_MS = 15_000;

export function tokenFile(token: string): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, token + '\n', { mode: 0o600 });
	return file;
}

export const newToken = (): string => randomBytes(16).toString('hex');

/** A mode's processes, and the SOCKS5 + HTTP port its clients use. */
export interface ModeRig {
	readonly mode: ProxyMode;
	/** Where proxy clients connect. */
	readonly port: number;
	readonly agent: AgentProcess;
	/** forward: `berth forward -D`; relay and autonomy: the connector. */
	readonly proxy?: CliProcess;
	/** reverse, relay, autonomy: where the traffic leaves. */
	readonly provider?: CliProcess;
	/** The connector's token (relay, autonomy). */
	readonly connectorToken?: string;
	/** Stops the agent (SIGTERM), then starts it again on the same port with the same token and flags. */
	restartAgent(options?: { readonly whileDown?: () => void }): Promise<void>;
	/** Every process of the rig, agent last. */
	stop(): Promise<void>;
}

export interface ModeOptions {
	/** The URL the provider dials (default the agent's: a CutRelay's to cut it off). */
	readonly providerUrl?: (agent: AgentProcess) => string | Promise<string>;
	/** The URL the forward client or connector dials. */
	readonly proxyUrl?: (agent: AgentProcess) => string | Promise<string>;
	readonly agent?: StartAgentOptions;
	/** More flags for the provider (e.g. --upstream). */
	readonly providerArgs?: readonly string[];
}

/** Starts `mode` and resolves once its proxy port is open and (where there is one) a provider is in. */
export async function startMode(mode: ProxyMode, options: ModeOptions = {}): Promise<ModeRig> {
	const connectorToken = mode === 'relay' || mode === 'autonomy' ? newToken() : undefined;
	const agentArgs = {
		forward: [],
		reverse: ['-r', '--socks-port', '0'],
		relay: ['-r', '--socks-port', '0', '--connector-token-file', tokenFile(connectorToken ?? '')],
		autonomy: ['-r', '-a'],
	}[mode];
	const args = [...agentArgs, ...(options.agent?.args ?? [])];
	let agent = await startAgent({ ...options.agent, args });
	const started: CliProcess[] = [];
	const stop = async (): Promise<void> => {
		await Promise.all(started.map((p) => p.stop()));
		await agent.stop();
	};
	const restartAgent: ModeRig['restartAgent'] = async ({ whileDown } = {}) => {
		const { port, token } = agent;
		await agent.stop();
		whileDown?.();
		agent = await startAgent({
			...options.agent,
			token: token ?? null,
			args: [...args, '--port', String(port)],
		});
	};
	// The rig's `agent` is whichever runs now (restartAgent replaces it): a getter, not a copy.
	const rig = (parts: Omit<ModeRig, 'mode' | 'agent' | 'restartAgent' | 'stop'>): ModeRig => ({
		mode,
		get agent(): AgentProcess {
			return agent;
		},
		restartAgent,
		stop,
		...parts,
	});
	try {
		const provider =
			mode === 'forward'
				? undefined
				: await startProvider(
						(await options.providerUrl?.(agent)) ?? agent.url,
						agent.token!,
						mode === 'autonomy' ? [connectorToken!] : [],
						options.providerArgs,
					);
		if (provider) {
			started.push(provider);
		}
		const proxyUrl = (await options.proxyUrl?.(agent)) ?? agent.url;
		if (mode === 'reverse') {
			const line = await waitFor(
				() => agent.stdout.map((l) => PROXY_LINE.exec(l)).find(Boolean),
				'the proxy line',
			);
			return rig({ port: Number(line[1]), ...(provider ? { provider } : {}) });
		}
		const proxy =
			mode === 'forward'
				? spawnCli(['forward', '-D', '0', '-u', proxyUrl, '--token-file', tokenFile(agent.token!)])
				: spawnCli(['connector', '-p', '0', '-u', proxyUrl, '--token-file', tokenFile(connectorToken!)]);
		started.push(proxy);
		const line = await proxy.waitForStdout(PROXY_LINE, START_TIMEOUT_MS);
		return rig({
			port: Number(line[1]),
			proxy,
			...(provider ? { provider } : {}),
			...(connectorToken ? { connectorToken } : {}),
		});
	} catch (error) {
		await stop();
		throw error;
	}
}

/** `berth provider` (declaring `connectorTokens`, autonomy mode), once the agent took it. */
export async function startProvider(
	url: string,
	agentToken: string,
	connectorTokens: readonly string[] = [],
	extra: readonly string[] = [],
): Promise<CliProcess> {
	const declared = connectorTokens.flatMap((t) => ['--connector-token-file', tokenFile(t)]);
	const cli = spawnCli(['provider', '-u', url, '--token-file', tokenFile(agentToken), ...declared, ...extra]);
	await cli.waitForStdout(/^Providing egress/, START_TIMEOUT_MS);
	return cli;
}

/**
 * SOCKS5 CONNECT by hand on a socket that allows half-open (the socks package's sockets end their
 * side when the peer's FIN comes): resolves once the proxy answered success, with the socket
 * paused and nothing of the target's bytes consumed.
 */
export function rawSocksConnect(proxyPort: number, host: string, port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
		socket.once('error', reject);
		const name = Buffer.from(host);
		const request = Buffer.concat([
			Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]),
			name,
			Buffer.from([port >> 8, port & 0xff]),
		]);
		socket.once('connect', () => socket.write(request));
		let got = Buffer.alloc(0);
		const onData = (chunk: Buffer): void => {
			got = Buffer.concat([got, chunk]);
			const length = got.length >= 6 ? 2 + replyLength(got.subarray(2)) : Infinity;
			if (got.length < length) {
				return;
			}
			socket.off('data', onData);
			socket.pause();
			socket.off('error', reject);
			if (got[1] !== 0 || got[3] !== 0) {
				socket.destroy();
				reject(new Error(`SOCKS5 refused: method ${got[1]}, reply ${got[3]}`));
				return;
			}
			const rest = got.subarray(length);
			if (rest.length > 0) {
				socket.unshift(rest);
			}
			resolve(socket);
		};
		socket.on('data', onData);
	});
}

/** A SOCKS5 reply's length, from its address type (RFC 1928 §6). */
function replyLength(reply: Buffer): number {
	switch (reply[3]) {
		case 1:
			return 4 + 4 + 2;
		case 4:
			return 4 + 16 + 2;
		default:
			return reply.length >= 5 ? 4 + 1 + reply[4]! + 2 : Infinity;
	}
}

/**
 * SOCKS5 UDP ASSOCIATE by hand (the socks package's createConnection does only CONNECT): the
 * control connection, and the relay address the proxy answered.
 */
export async function udpAssociate(
	proxyPort: number,
): Promise<{ control: Socket; relay: { host: string; port: number } }> {
	const control = connect({ port: proxyPort, host: '127.0.0.1' });
	control.on('error', () => undefined);
	const received: Buffer[] = [];
	control.on('data', (chunk: Buffer) => received.push(chunk));
	control.write(Uint8Array.of(5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0));
	const reply = await waitFor(() => {
		const bytes = Buffer.concat(received);
		return bytes.length >= 2 + 10 ? bytes : undefined;
	}, 'the UDP ASSOCIATE reply');
	if (reply[1] !== 0 || reply[3] !== 0 || reply[5] !== 1) {
		throw new Error(`UDP ASSOCIATE refused: ${[...reply.subarray(0, 6)].join(' ')}`);
	}
	return { control, relay: { host: [...reply.subarray(6, 10)].join('.'), port: reply.readUInt16BE(10) } };
}

/** A UDP echo server on `host` (udp4 or udp6): answers `echo:` + each datagram. */
export async function startUdpEcho(
	host: '127.0.0.1' | '::1',
): Promise<{ port: number; socket: UdpSocket; close(): void }> {
	const socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
	socket.on('message', (message, from) =>
		socket.send(Buffer.concat([Buffer.from('echo:'), message]), from.port, from.address),
	);
	await new Promise<void>((resolve) => socket.bind(0, host, resolve));
	return { port: socket.address().port, socket, close: () => socket.close() };
}

/**
 * A TCP relay in front of an agent that can be cut: `cut()` resets every connection through it
 * (as a network drop would, seen from both ends), and new connections go through again.
 */
export async function startCutRelay(
	targetPort: number,
): Promise<{ port: number; url(agent: AgentProcess): string; cut(): void; close(): Promise<void> }> {
	const pairs = new Set<[Socket, Socket]>();
	const server = createServer((inbound) => {
		const outbound = connect({ port: targetPort, host: '127.0.0.1' });
		const pair: [Socket, Socket] = [inbound, outbound];
		pairs.add(pair);
		const end = (): void => {
			pairs.delete(pair);
			inbound.destroy();
			outbound.destroy();
		};
		for (const s of pair) {
			s.on('error', end);
			s.on('close', end);
		}
		inbound.pipe(outbound);
		outbound.pipe(inbound);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	const cut = (): void => {
		for (const [a, b] of [...pairs]) {
			a.resetAndDestroy();
			b.resetAndDestroy();
		}
		pairs.clear();
	};
	return {
		port,
		url: (agent) => agent.url.replace(`:${agent.port}`, `:${port}`),
		cut,
		close: () =>
			new Promise<void>((resolve) => {
				cut();
				server.close(() => resolve());
			}),
	};
}
