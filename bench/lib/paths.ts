/**
 * The paths a case measures, each started fresh for one measurement and stopped after it:
 * direct loopback, `ssh -L` through a private sshd (default cipher and aes128-gcm), and Berth's
 * CLI (`server` + `forward`) over raw TCP and over WebSocket frames. Proxy paths (issue 9) are a
 * SOCKS5 port instead of a forward: `ssh -D`, `berth forward -D`, Berth's reverse mode
 * (`server -r` + `provider`) and relay mode (`connector` -> `server -r` -> `provider`). Berth is
 * driven only through dist/server.js, so the bench measures whatever that build does.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitListening } from './net';
import { descendants, indent, runToEnd, startProc, type Proc } from './procs';

export type PathId =
	| 'direct'
	| 'ssh'
	| 'ssh-gcm'
	| 'berth-tcp'
	| 'berth-ws'
	| 'ssh-D'
	| 'berth-D'
	| 'berth-reverse'
	| 'berth-relay';
export const PATH_IDS: readonly PathId[] = [
	'direct',
	'ssh',
	'ssh-gcm',
	'berth-tcp',
	'berth-ws',
	'ssh-D',
	'berth-D',
	'berth-reverse',
	'berth-relay',
];

export type SideRole = 'client' | 'middle' | 'server';
export const SIDE_ROLES: readonly SideRole[] = ['client', 'middle', 'server'];

/** The processes of one side of a relay, looked up when measured. */
export interface Side {
	/**
	 * For a proxy path, 'client' is the process that holds the proxy port and 'server' the one
	 * traffic leaves from (in reverse mode: the agent, then the provider); relay mode has a
	 * 'middle' too (connector, agent, provider).
	 */
	readonly role: SideRole;
	/** What the processes are, e.g. "ssh client" or "sshd session processes". */
	readonly label: string;
	pids(): number[];
}

/**
 * A started path: connect to `port` on 127.0.0.1 to reach the target through it (for a proxy
 * path, `port` is a SOCKS5 proxy that reaches any target).
 */
export interface Relay {
	readonly port: number;
	readonly sides: readonly Side[];
	/** Why the relay is broken (a process exited), or undefined while it runs. */
	failure(): string | undefined;
	/** The last lines its processes wrote to stderr, for a failure report ('' if none wrote any). */
	stderrTails(): string;
	stop(): Promise<void>;
}

export interface PathContext {
	readonly workDir: string;
	/** The CLI bundle: a copy of dist/server.js taken when the run starts. */
	readonly serverJs: string;
	readonly berthLogLevel: string;
	/** When set, Berth's processes run with --cpu-prof and write their profiles under it. */
	readonly profileDir: string | undefined;
	readonly ssh: SshSetup;
}

export interface PathDef {
	readonly id: PathId;
	readonly label: string;
	/** Berth itself (goals apply to it). */
	readonly product: boolean;
	/**
	 * What it offers: a port forward to one target, a SOCKS5 proxy, or (direct) the target itself,
	 * which both kinds of case measure as their physical limit.
	 */
	readonly kind: 'forward' | 'proxy' | 'none';
	/** Starts the path to 127.0.0.1:`target` (a proxy path ignores it); `runLabel` names profiles. */
	start(ctx: PathContext, target: number, runLabel: string): Promise<Relay>;
}

export const PATHS: Readonly<Record<PathId, PathDef>> = {
	direct: {
		id: 'direct',
		label: 'direct loopback (physical limit)',
		product: false,
		kind: 'none',
		start: (_ctx, target) =>
			Promise.resolve({
				port: target,
				sides: [],
				failure: () => undefined,
				stderrTails: () => '',
				stop: () => Promise.resolve(),
			}),
	},
	ssh: {
		id: 'ssh',
		label: 'ssh -L, default cipher',
		product: false,
		kind: 'forward',
		start: (ctx, target) => startSshForward(ctx.ssh, target, undefined),
	},
	'ssh-gcm': {
		id: 'ssh-gcm',
		label: 'ssh -L, aes128-gcm@openssh.com',
		product: false,
		kind: 'forward',
		start: (ctx, target) => startSshForward(ctx.ssh, target, 'aes128-gcm@openssh.com'),
	},
	'berth-tcp': {
		id: 'berth-tcp',
		label: 'Berth, raw TCP',
		product: true,
		kind: 'forward',
		start: (ctx, target, runLabel) => startBerth(ctx, target, 'tcp', runLabel),
	},
	'berth-ws': {
		id: 'berth-ws',
		label: 'Berth, WebSocket frames',
		product: true,
		kind: 'forward',
		start: (ctx, target, runLabel) => startBerth(ctx, target, 'websocket', runLabel),
	},
	'ssh-D': {
		id: 'ssh-D',
		label: 'ssh -D, default cipher',
		product: false,
		kind: 'proxy',
		start: (ctx) => startSshDynamic(ctx.ssh),
	},
	'berth-D': {
		id: 'berth-D',
		label: 'Berth forward -D, raw TCP',
		product: true,
		kind: 'proxy',
		start: (ctx, _target, runLabel) => startBerthProxy(ctx, runLabel),
	},
	'berth-reverse': {
		id: 'berth-reverse',
		label: 'Berth reverse mode (server -r + provider), raw TCP',
		product: true,
		kind: 'proxy',
		start: (ctx, _target, runLabel) => startBerthReverse(ctx, runLabel),
	},
	'berth-relay': {
		id: 'berth-relay',
		label: 'Berth relay mode (connector, server -r, provider), raw TCP',
		product: true,
		kind: 'proxy',
		start: (ctx, _target, runLabel) => startBerthRelay(ctx, runLabel),
	},
};

// ---- ssh ----

export interface SshSetup {
	readonly dir: string;
	readonly hostKey: string;
	readonly userKey: string;
	readonly authorizedKeys: string;
	readonly user: string;
}

/** A host key and an ed25519 user key, authorized for this user, in a private folder. */
export function prepareSsh(workDir: string): SshSetup {
	const dir = join(workDir, 'ssh');
	mkdirSync(dir, { mode: 0o700 });
	const hostKey = join(dir, 'host_ed25519');
	const userKey = join(dir, 'user_ed25519');
	for (const key of [hostKey, userKey]) {
		execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-bench', '-f', key]);
	}
	const authorizedKeys = join(dir, 'authorized_keys');
	writeFileSync(authorizedKeys, readFileSync(`${userKey}.pub`), { mode: 0o600 });
	return { dir, hostKey, userKey, authorizedKeys, user: userInfo().username };
}

function sshdConfig(setup: SshSetup, port: number): string {
	return [
		`Port ${port}`,
		'ListenAddress 127.0.0.1',
		`HostKey ${setup.hostKey}`,
		'PidFile none',
		`AuthorizedKeysFile ${setup.authorizedKeys}`,
		'PermitRootLogin prohibit-password',
		'PubkeyAuthentication yes',
		'PasswordAuthentication no',
		'KbdInteractiveAuthentication no',
		'UsePAM no',
		'StrictModes no',
		'AllowTcpForwarding yes',
		'PermitOpen any',
		'X11Forwarding no',
		'AllowAgentForwarding no',
		'PermitTTY no',
		'PrintMotd no',
		'UseDNS no',
		'ClientAliveInterval 0',
		'LogLevel ERROR',
		'',
	].join('\n');
}

/** The options every ssh the bench runs shares: key auth only, no user config, no known_hosts. */
export function sshClientArgs(setup: SshSetup, sshdPort: number, cipher: string | undefined): string[] {
	return [
		'-F',
		'/dev/null',
		'-i',
		setup.userKey,
		'-o',
		'IdentitiesOnly=yes',
		'-o',
		'StrictHostKeyChecking=no',
		'-o',
		'UserKnownHostsFile=/dev/null',
		'-o',
		'BatchMode=yes',
		'-o',
		'ServerAliveInterval=0',
		...(cipher ? ['-c', cipher] : []),
		'-p',
		String(sshdPort),
	];
}

/** A private sshd on a free loopback port (fresh for each measurement, so its tree is all ours). */
export async function startSshd(setup: SshSetup): Promise<{ sshd: Proc; port: number }> {
	const port = await freePort();
	const config = join(setup.dir, `sshd_config.${port}`);
	writeFileSync(config, sshdConfig(setup, port));
	// sshd must be started by its absolute path (it re-executes itself).
	const sshd = startProc('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
	try {
		await waitListening(port, 10_000, () => sshd.describeExit());
	} catch (error) {
		await sshd.stop();
		throw error;
	}
	return { sshd, port };
}

function startSshForward(setup: SshSetup, target: number, cipher: string | undefined): Promise<Relay> {
	return startSshClient(setup, cipher, 'ssh -L', (localPort) => [
		'-L',
		`127.0.0.1:${localPort}:127.0.0.1:${target}`,
	]);
}

/** `ssh -N -D`: OpenSSH's SOCKS proxy (the peer of the proxy cases), default cipher. */
function startSshDynamic(setup: SshSetup): Promise<Relay> {
	return startSshClient(setup, undefined, 'ssh -D', (localPort) => ['-D', `127.0.0.1:${localPort}`]);
}

/** A private sshd and an `ssh -N` with the forwarding `forwardArgs` gives, on a free local port. */
async function startSshClient(
	setup: SshSetup,
	cipher: string | undefined,
	name: string,
	forwardArgs: (localPort: number) => string[],
): Promise<Relay> {
	const { sshd, port: sshdPort } = await startSshd(setup);
	const procs: Proc[] = [sshd];
	try {
		const localPort = await freePort();
		const ssh = startProc(name, 'ssh', [
			...sshClientArgs(setup, sshdPort, cipher),
			'-o',
			'LogLevel=ERROR',
			'-o',
			'ExitOnForwardFailure=yes',
			'-N',
			...forwardArgs(localPort),
			`${setup.user}@127.0.0.1`,
		]);
		procs.unshift(ssh);
		await waitListening(localPort, 15_000, () => ssh.describeExit() ?? sshd.describeExit());
		return relayOf(localPort, procs, [
			{ role: 'client', label: 'ssh client', pids: () => (ssh.alive ? [ssh.pid] : []) },
			// The listener itself only accepts; the session is its privileged monitor plus the
			// unprivileged child that relays: every descendant of the listener.
			{ role: 'server', label: 'sshd session processes', pids: () => descendants(sshd.pid) },
		]);
	} catch (error) {
		await stopAll(procs);
		throw error;
	}
}

// ---- Berth ----

/** What starting Berth needs of the context (the soak runs it without any ssh). */
export type BerthContext = Omit<PathContext, 'ssh'>;

/** The stdout line of a Berth process that holds a proxy port (group 1: the port). */
const PROXY_READY = /^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+), /;

/** `berth server` and `berth forward -L 0:127.0.0.1:TARGET` over `transport`, from ctx.serverJs. */
export function startBerth(
	ctx: BerthContext,
	target: number,
	transport: 'tcp' | 'websocket',
	runLabel: string,
): Promise<Relay> {
	return startBerthPair(ctx, runLabel, {
		serverArgs: [],
		clientName: 'berth forward',
		clientArgs: ['forward', '-L', `0:127.0.0.1:${target}`, '--transport', transport],
		clientReady: /^Forwarding 127\.0\.0\.1:(\d+) -> /,
		portFrom: 'client',
	});
}

/** What the client reaches the agent through, started once the agent listens (see startBerthVia). */
export type BerthVia = (agent: {
	readonly url: string;
	/** The agent's connection token (mode 0600). */
	readonly tokenFile: string;
}) => Promise<{ readonly proc: Proc; readonly url: string }>;

/**
 * `startBerth`, with the forward dialling the agent through what `via` starts (the resume case's
 * cutting proxy); `via`'s process is stopped after the forward and before the agent.
 */
export function startBerthVia(
	ctx: BerthContext,
	target: number,
	transport: 'tcp' | 'websocket',
	runLabel: string,
	via: BerthVia,
): Promise<Relay> {
	return startBerthPair(ctx, runLabel, {
		serverArgs: [],
		via,
		clientName: 'berth forward',
		clientArgs: ['forward', '-L', `0:127.0.0.1:${target}`, '--transport', transport],
		clientReady: /^Forwarding 127\.0\.0\.1:(\d+) -> /,
		portFrom: 'client',
	});
}

/** `berth server` and `berth forward -D 0` (a SOCKS5 + HTTP proxy) over raw TCP. */
function startBerthProxy(ctx: BerthContext, runLabel: string): Promise<Relay> {
	return startBerthPair(ctx, runLabel, {
		serverArgs: [],
		clientName: 'berth forward -D',
		clientArgs: ['forward', '-D', '0', '--transport', 'tcp'],
		clientReady: PROXY_READY,
		portFrom: 'client',
	});
}

/**
 * Reverse mode: `berth server -r --socks-port 0` holds the proxy port, `berth provider` (over raw
 * TCP) is where its connections leave. Ready once the provider says it serves.
 */
function startBerthReverse(ctx: BerthContext, runLabel: string): Promise<Relay> {
	return startBerthPair(ctx, runLabel, {
		serverArgs: ['-r', '--socks-port', '0'],
		serverReady: PROXY_READY,
		clientName: 'berth provider',
		clientArgs: ['provider', '--transport', 'tcp'],
		clientReady: /^Providing egress: /,
		portFrom: 'server',
	});
}

/**
 * Relay mode: `berth connector` holds the proxy port; the agent (`berth server -r` with a
 * connector token) joins each of its streams to one towards `berth provider`, where the
 * connection leaves. Three processes, both links over raw TCP; ready once the connector listens
 * (after the provider serves, so no connection waits for one).
 */
async function startBerthRelay(ctx: BerthContext, runLabel: string): Promise<Relay> {
	const run = prepareBerthRun(ctx, runLabel);
	const connectorToken = writeToken(run.dir, 'connector-token');
	// The agent's own proxy port is not used here; port 0 keeps it off the default 9870.
	const agentArgs = ['-r', '--socks-port', '0', '--connector-token-file', connectorToken];
	const { server, url } = await startBerthAgent(run, agentArgs);
	const procs: Proc[] = [server];
	try {
		const providerArgs = ['provider', '--transport', 'tcp'];
		const provider = startBerthClient(run, 'berth provider', providerArgs, url, run.tokenFile);
		procs.unshift(provider);
		await provider.waitForLine(/^Providing egress: /, 20_000);
		const connectorArgs = ['connector', '-p', '0', '--transport', 'tcp'];
		const connector = startBerthClient(run, 'berth connector', connectorArgs, url, connectorToken);
		procs.unshift(connector);
		const ready = await connector.waitForLine(PROXY_READY, 20_000);
		return relayOf(Number(ready[1]), procs, [
			sideOf('client', connector),
			sideOf('middle', server),
			sideOf('server', provider),
		]);
	} catch (error) {
		await stopAll(procs);
		throw error;
	}
}

interface BerthPairSpec {
	readonly serverArgs: readonly string[];
	/** A later stdout line of the server to wait for (group 1: the port, with portFrom 'server'). */
	readonly serverReady?: RegExp;
	/** Started between them: the client dials the URL it gives instead of the agent's. */
	readonly via?: BerthVia;
	readonly clientName: string;
	/** The subcommand and its flags; -u, --token-file and --log-level are added. */
	readonly clientArgs: readonly string[];
	/** The client's stdout line that says it is ready (group 1: the port, with portFrom 'client'). */
	readonly clientReady: RegExp;
	readonly portFrom: 'client' | 'server';
}

/** A `berth server` and one client of it (forward, or provider), from ctx.serverJs. */
async function startBerthPair(ctx: BerthContext, runLabel: string, spec: BerthPairSpec): Promise<Relay> {
	const run = prepareBerthRun(ctx, runLabel);
	const { server, url } = await startBerthAgent(run, spec.serverArgs);
	const procs: Proc[] = [server];
	try {
		const serverReady = spec.serverReady && (await server.waitForLine(spec.serverReady, 20_000));
		const middle = spec.via && (await spec.via({ url, tokenFile: run.tokenFile }));
		if (middle) {
			procs.unshift(middle.proc);
		}
		const client = startBerthClient(run, spec.clientName, spec.clientArgs, middle?.url ?? url, run.tokenFile);
		procs.unshift(client);
		const clientReady = await client.waitForLine(spec.clientReady, 20_000);
		const port = Number((spec.portFrom === 'client' ? clientReady : serverReady)?.[1]);
		// For the reverse mode the proxy port is on the agent: it is the side clients talk to.
		const [entry, exit] = spec.portFrom === 'client' ? [client, server] : [server, client];
		return relayOf(port, procs, [sideOf('client', entry), sideOf('server', exit)]);
	} catch (error) {
		await stopAll(procs);
		throw error;
	}
}

/** One measurement's Berth processes: their folder, the agent's token, their config dir. */
interface BerthRun {
	readonly ctx: BerthContext;
	readonly runLabel: string;
	readonly dir: string;
	/** The agent's connection token. */
	readonly tokenFile: string;
	readonly env: Record<string, string>;
}

function prepareBerthRun(ctx: BerthContext, runLabel: string): BerthRun {
	const dir = join(ctx.workDir, `berth-${randomBytes(4).toString('hex')}`);
	mkdirSync(dir, { mode: 0o700 });
	const tokenFile = writeToken(dir, 'token');
	return { ctx, runLabel, dir, tokenFile, env: { BERTH_CONFIG_DIR: join(dir, 'config') } };
}

/** A fresh random token in `dir`/`name`, mode 0600; returns the file. */
function writeToken(dir: string, name: string): string {
	const file = join(dir, name);
	writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
	return file;
}

/** `berth server --port 0` with `args`, once it listens (its URL); stopped if it never does. */
async function startBerthAgent(
	run: BerthRun,
	args: readonly string[],
): Promise<{ server: Proc; url: string }> {
	const { ctx } = run;
	const server = startProc(
		'berth server',
		process.execPath,
		[
			...profileArgs(ctx, run.runLabel, 'server'),
			ctx.serverJs,
			'server',
			'--port',
			'0',
			'--connection-token-file',
			run.tokenFile,
			...args,
			'--log-level',
			ctx.berthLogLevel,
		],
		{ env: run.env },
	);
	try {
		const listening = await server.waitForLine(
			/^Berth agent listening on (ws:\/\/127\.0\.0\.1:\d+)$/,
			20_000,
		);
		return { server, url: listening[1]! };
	} catch (error) {
		await server.stop();
		throw error;
	}
}

/** A Berth client (the subcommand is args[0]) of the agent at `url`, proving the token in `tokenFile`. */
function startBerthClient(
	run: BerthRun,
	name: string,
	args: readonly string[],
	url: string,
	tokenFile: string,
): Proc {
	const { ctx } = run;
	return startProc(
		name,
		process.execPath,
		[
			...profileArgs(ctx, run.runLabel, args[0]!),
			ctx.serverJs,
			...args,
			'-u',
			url,
			'--token-file',
			tokenFile,
			'--log-level',
			ctx.berthLogLevel,
		],
		{ env: run.env },
	);
}

function sideOf(role: SideRole, proc: Proc): Side {
	return { role, label: proc.name, pids: () => (proc.alive ? [proc.pid] : []) };
}

/** node --cpu-prof flags when profiling, naming the profile after the run and the role. */
function profileArgs(ctx: BerthContext, runLabel: string, role: string): string[] {
	if (ctx.profileDir === undefined) {
		return [];
	}
	const profileDir = join(ctx.profileDir, runLabel);
	mkdirSync(profileDir, { recursive: true });
	return [
		'--cpu-prof',
		'--cpu-prof-dir',
		profileDir,
		'--cpu-prof-name',
		`${role}.${process.hrtime.bigint()}.cpuprofile`,
	];
}

// ---- shared ----

/** Stops client-side processes first, so servers see their clients leave before they stop. */
async function stopAll(procs: readonly Proc[]): Promise<void> {
	for (const proc of procs) {
		await proc.stop();
	}
}

/** A Relay of started processes (stopped in this order; the first that exits is its failure). */
export function relayOf(port: number, procs: readonly Proc[], sides: readonly Side[]): Relay {
	return {
		port,
		sides,
		failure: () => {
			for (const proc of procs) {
				const exit = proc.describeExit();
				if (exit !== undefined) {
					return exit;
				}
			}
			return undefined;
		},
		stderrTails: () =>
			procs
				.filter((proc) => proc.stderrTail() !== '')
				.map((proc) => `${proc.name} stderr ended with:\n${indent(proc.stderrTail())}`)
				.join('\n'),
		stop: () => stopAll(procs),
	};
}

/** The cipher ssh and the private sshd negotiate (with `cipher` forced, or the default). */
export async function probeSshCipher(setup: SshSetup, cipher: string | undefined): Promise<string> {
	const { sshd, port } = await startSshd(setup);
	try {
		const result = await runToEnd(
			'ssh cipher probe',
			'ssh',
			[...sshClientArgs(setup, port, cipher), '-v', `${setup.user}@127.0.0.1`, 'true'],
			20_000,
		);
		const match = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(result.stderr);
		if (!match) {
			throw new Error(
				`ssh to the private sshd failed (exit ${result.code}):\n${result.stderr.trim().slice(-800)}`,
			);
		}
		return match[2] === '<implicit>' ? match[1]! : `${match[1]} + ${match[2]}`;
	} finally {
		await sshd.stop();
	}
}
