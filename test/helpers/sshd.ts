import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './agent-process';
import { freePort } from './net';
import { waitFor, within } from './wait';

/**
 * A real OpenSSH server for `berth ssh`'s tests: /usr/sbin/sshd on a free loopback port, run as
 * the current user (UsePAM no, StrictModes no: no root needed), with a host key and a user key
 * made for it, and a client config (`ssh -F`) whose hosts reach it with that key.
 */
export interface SshServer {
	readonly port: number;
	/** The client's config file, for `berth ssh -F`. */
	readonly configFile: string;
	/** A Host of the config: node is on the PATH of its sessions. */
	readonly host: string;
	/** A Host of the config whose sessions get a PATH without node (sshd's `SetEnv PATH=…` on its second port). */
	readonly hostWithoutNode: string;
	/** The user's private key (no passphrase) that the config's hosts log in with. */
	readonly identityFile: string;
	stop(): Promise<void>;
}

/** What the sessions of `hostWithoutNode` get as PATH: no node there (the login shell's rc files may add to it). */
const PATH_WITHOUT_NODE = '/nonexistent';

export async function startSshServer(): Promise<SshServer> {
	const dir = tempDir('berth-sshd-');
	const hostKey = join(dir, 'host_ed25519');
	const userKey = join(dir, 'user_ed25519');
	for (const key of [hostKey, userKey]) {
		execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test', '-f', key]);
	}
	const authorizedKeys = join(dir, 'authorized_keys');
	writeFileSync(authorizedKeys, readFileSync(`${userKey}.pub`), { mode: 0o600 });
	const port = await freePort();
	// A second port whose sessions get a PATH without node (sshd sets PATH after any the client sends).
	const portWithoutNode = await freePort();
	const serverConfig = join(dir, 'sshd_config');
	writeFileSync(
		serverConfig,
		[
			'ListenAddress 127.0.0.1',
			`HostKey ${hostKey}`,
			`PidFile ${join(dir, 'sshd.pid')}`,
			`AuthorizedKeysFile ${authorizedKeys}`,
			'PermitRootLogin prohibit-password',
			'PasswordAuthentication no',
			'KbdInteractiveAuthentication no',
			'UsePAM no',
			'StrictModes no',
			'AllowTcpForwarding yes',
			'PrintMotd no',
			'UseDNS no',
			'LogLevel ERROR',
			`Match LocalPort ${portWithoutNode}`,
			`  SetEnv PATH=${PATH_WITHOUT_NODE}`,
			'',
		].join('\n'),
	);
	const clientConfig = join(dir, 'ssh_config');
	const hostBlock = (name: string, hostPort: number) => [
		`Host ${name}`,
		'  HostName 127.0.0.1',
		`  Port ${hostPort}`,
		`  User ${userInfo().username}`,
		`  IdentityFile ${userKey}`,
		'  IdentitiesOnly yes',
		`  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
		'  StrictHostKeyChecking accept-new',
		'  BatchMode yes',
		'  LogLevel ERROR',
	];
	writeFileSync(
		clientConfig,
		[...hostBlock('berth-test', port), ...hostBlock('berth-test-nonode', portWithoutNode), ''].join('\n'),
	);
	// sshd must be started by its absolute path (it re-executes itself).
	const sshd: ChildProcess = spawn(
		'/usr/sbin/sshd',
		['-D', '-e', '-f', serverConfig, '-p', String(port), '-p', String(portWithoutNode)],
		{
			stdio: ['ignore', 'ignore', 'pipe'],
		},
	);
	let said = '';
	sshd.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
	const exited = new Promise<void>((resolve) => sshd.once('exit', () => resolve()));
	await waitFor(
		async () => {
			if (sshd.exitCode !== null) {
				throw new Error(`sshd exited with ${sshd.exitCode}: ${said}`);
			}
			return (await accepts(port)) && accepts(portWithoutNode);
		},
		`sshd to listen on 127.0.0.1:${port} and ${portWithoutNode}`,
		10_000,
		50,
	);
	return {
		port,
		configFile: clientConfig,
		host: 'berth-test',
		hostWithoutNode: 'berth-test-nonode',
		identityFile: userKey,
		stop: async () => {
			if (sshd.exitCode === null && sshd.signalCode === null) {
				sshd.kill('SIGTERM');
			}
			await within(exited, 10_000, 'sshd exit');
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}
