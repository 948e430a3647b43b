import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
	runCli,
	spawnCli,
	startAgent,
	startForward,
	tempDir,
	type AgentProcess,
	type CliProcess,
	type StartAgentOptions,
} from '../helpers/agent-process';
import { randomData, readAll, sha256, startEchoServer } from '../helpers/net';
import { curl, startWeb } from '../helpers/proxy-clients';
import { createTestCa, type IssueOptions, type TestCa } from '../helpers/test-ca';
import { waitFor, within } from '../helpers/wait';

/**
 * TLS end to end: `berth server --tls-cert/--tls-key` against the real clients, with a CA made by
 * openssl for each test. Trust comes from --ca-file, never from the machine's store.
 */

/** The message every "not trusted" refusal carries, advice included. */
const NOT_TRUSTED =
	/the agent's certificate is not trusted \(signed by a CA this client does not trust\): pass --ca-file with the CA that signed it, or --insecure to skip the check \(not recommended\)/;

/** An agent serving TLS with a certificate from `ca` (for localhost and 127.0.0.1 unless told). */
async function startTlsAgent(
	ca: TestCa,
	issue: IssueOptions = {},
	options: StartAgentOptions = {},
): Promise<AgentProcess> {
	const { certFile, keyFile } = await ca.issue('agent', issue);
	return startAgent({
		...options,
		args: ['--tls-cert', certFile, '--tls-key', keyFile, ...(options.args ?? [])],
	});
}

function tokenFileOf(agent: AgentProcess): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, agent.token + '\n', { mode: 0o600 });
	return file;
}

/** `berth forward -u URL -L 0:127.0.0.1:PORT` with the agent's token and `extra` flags, run to its end. */
function forwardOnce(agent: AgentProcess, url: string, extra: readonly string[]) {
	return runCli(['forward', '-u', url, '--token-file', tokenFileOf(agent), '-L', '0:127.0.0.1:9', ...extra], {
		timeoutMs: 20_000,
	});
}

/** Sends `bytes` random bytes through a forward's local port to the echo server; true if all came back. */
async function echoes(port: number, bytes: number): Promise<boolean> {
	const data = randomData(bytes);
	const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
	const answer = readAll(socket);
	socket.end(data);
	return sha256(await within(answer, 10_000, 'the echo')) === sha256(data);
}

/** The port of a forward's `Forwarding 127.0.0.1:PORT ->` line. */
async function forwardPort(cli: CliProcess): Promise<number> {
	return Number((await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) -> /, 15_000))[1]);
}

describe('TLS: berth server --tls-cert/--tls-key and its clients', () => {
	it('carries a forward over wss:// with --ca-file, over raw bytes and over WebSocket frames', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		const echo = await startEchoServer();
		try {
			assert.match(agent.url, /^wss:\/\/127\.0\.0\.1:\d+$/, 'the listening line says wss://');
			for (const transport of ['tcp', 'websocket']) {
				const { cli, ports } = await startForward(
					agent,
					['-L', `0:127.0.0.1:${echo.port}`],
					['--ca-file', ca.certFile, '--transport', transport],
				);
				try {
					assert.equal(await echoes(ports[0]!, 256 * 1024), true, `bytes echoed over ${transport}`);
				} finally {
					assert.equal(await cli.stop(), 0);
				}
				assert.ok(!cli.stderr.some((l) => /warn|insecure/.test(l)), cli.stderr.join('\n'));
			}
		} finally {
			await echo.close();
			await agent.stop();
		}
	});

	it('refuses a certificate the system store does not trust: exit 3, one line that says why', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		try {
			const result = await forwardOnce(agent, agent.url, []);
			assert.equal(result.code, 3, result.stderr);
			assert.match(result.stderr, new RegExp(`^berth: ${agent.url}: ${NOT_TRUSTED.source}$`, 'm'));
			assert.equal(result.stderr.trim().split('\n').length, 1, `one line:\n${result.stderr}`);
			// --peer vscode reads the commit over https first: the same check, the same refusal.
			const vscode = await forwardOnce(agent, agent.url, ['--peer', 'vscode']);
			assert.equal(vscode.code, 3, vscode.stderr);
			assert.match(vscode.stderr, NOT_TRUSTED);
		} finally {
			await agent.stop();
		}
	});

	it('refuses a certificate from another CA than --ca-file names', async () => {
		const ca = await createTestCa('Berth Test CA');
		const other = await createTestCa('Some Other CA');
		const agent = await startTlsAgent(ca);
		try {
			const result = await forwardOnce(agent, agent.url, ['--ca-file', other.certFile]);
			assert.equal(result.code, 3, result.stderr);
			assert.match(result.stderr, NOT_TRUSTED);
		} finally {
			await agent.stop();
		}
	});

	it('refuses a certificate for another name, naming the host and what the certificate lists', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca, { names: ['DNS:agent.invalid'] });
		try {
			const result = await forwardOnce(agent, agent.url, ['--ca-file', ca.certFile]);
			assert.equal(result.code, 3, result.stderr);
			assert.match(
				result.stderr,
				/the agent's certificate is not valid for 127\.0\.0\.1 \(it lists DNS:agent\.invalid\): connect by a name the certificate lists/,
			);
		} finally {
			await agent.stop();
		}
	});

	it('refuses an expired certificate (exit 3), which the agent warned about at start', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca, { days: -1 });
		try {
			await agent.waitForLog(/--tls-cert \S+ expired on .*: clients will refuse it; renew it/);
			const result = await forwardOnce(agent, agent.url, ['--ca-file', ca.certFile]);
			assert.equal(result.code, 3, result.stderr);
			assert.match(result.stderr, /the agent's certificate has expired: renew the agent's certificate/);
		} finally {
			await agent.stop();
		}
	});

	it('connects with --insecure, and warns once at start that nothing is checked', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		const echo = await startEchoServer();
		try {
			const { cli, ports } = await startForward(agent, ['-L', `0:127.0.0.1:${echo.port}`], ['--insecure']);
			try {
				assert.equal(await echoes(ports[0]!, 64 * 1024), true);
			} finally {
				assert.equal(await cli.stop(), 0);
			}
			const warnings = cli.stderr.filter((l) => l.includes('--insecure'));
			assert.equal(warnings.length, 1, cli.stderr.join('\n'));
			assert.match(
				warnings[0]!,
				/warn .*--insecure: the certificate of wss:\/\/127\.0\.0\.1:\d+ is not checked, so anyone on the path can pose as the agent/,
			);
		} finally {
			await echo.close();
			await agent.stop();
		}
	});

	it('serves the status page and the API over https (curl --cacert), with a Secure cookie', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		const base = agent.url.replace(/^wss:/, 'https:');
		try {
			await waitFor(
				() => agent.stdout.includes(`Status page: ${base}/`),
				'the status page line, with https://',
			);
			const status = await curl([
				'--cacert',
				ca.certFile,
				'-H',
				`Authorization: Bearer ${agent.token}`,
				`${base}/api/status`,
			]);
			assert.equal(status.code, 0, status.stderr);
			assert.deepEqual(Object.keys(JSON.parse(status.stdout) as object).sort(), [
				'clients',
				'connectors',
				'providers',
				'sessions',
				'streams',
			]);
			const signIn = await curl(['--cacert', ca.certFile, '-i', `${base}/?tkn=${agent.token}`]);
			assert.match(signIn.stdout, /^HTTP\/1\.1 302/);
			assert.match(
				signIn.stdout,
				/^Set-Cookie: vscode-tkn=[^\r\n]*; HttpOnly; SameSite=Strict; Path=\/; Secure\r$/m,
			);
			const page = await curl(['--cacert', ca.certFile, '-b', `vscode-tkn=${agent.token}`, `${base}/`]);
			assert.match(page.stdout, new RegExp(`<th>Listening on</th><td>${agent.url}</td>`));
			// Without the CA, curl refuses the certificate too (60: peer certificate cannot be authenticated).
			assert.equal((await curl([`${base}/version`])).code, 60);
		} finally {
			await agent.stop();
		}
	});

	it('keeps an authenticated session past the 10 s handshake deadline, and closes a stalled TLS handshake at it', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		const echo = await startEchoServer();
		const { cli, ports } = await startForward(
			agent,
			['-L', `0:127.0.0.1:${echo.port}`],
			['--ca-file', ca.certFile],
		);
		try {
			assert.equal(await echoes(ports[0]!, 1024), true);
			// A TCP connection that never starts its TLS handshake is an unauthenticated one like any.
			const stalled = connect({ port: agent.port, host: '127.0.0.1' });
			stalled.on('error', () => undefined);
			await within(new Promise((resolve) => stalled.once('close', resolve)), 15_000, 'the agent to close it');
			// The session, older than that, is still the first one: its TCP socket left the bound.
			assert.equal(await echoes(ports[0]!, 1024), true);
			assert.ok(!cli.stderr.some((l) => l.includes('connection to the agent lost')), cli.stderr.join('\n'));
		} finally {
			assert.equal(await cli.stop(), 0);
			await echo.close();
			await agent.stop();
		}
	});

	it('stops a client that meets an untrusted certificate while reconnecting, instead of retrying', async () => {
		const first = await createTestCa('First CA');
		const agent = await startTlsAgent(first);
		const echo = await startEchoServer();
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFileOf(agent),
			'-L',
			`0:127.0.0.1:${echo.port}`,
			'--ca-file',
			first.certFile,
		]);
		let impostor: AgentProcess | undefined;
		try {
			assert.equal(await echoes(await forwardPort(cli), 1024), true);
			await agent.stop();
			// Another agent on the same port, with a certificate from a CA the client does not trust.
			impostor = await startTlsAgent(
				await createTestCa('Other CA'),
				{},
				{ args: ['--port', String(agent.port)] },
			);
			assert.equal(await within(cli.exited, 30_000, 'the client to give up'), 3, cli.stderr.join('\n'));
			assert.ok(
				cli.stderr.some((l) => NOT_TRUSTED.test(l)),
				cli.stderr.join('\n'),
			);
		} finally {
			await cli.stop();
			await impostor?.stop();
			await echo.close();
		}
	});

	it('says to use wss:// when a plain client reaches a TLS agent, and ws:// the other way round', async () => {
		const ca = await createTestCa();
		const tls = await startTlsAgent(ca);
		const plain = await startAgent();
		try {
			const toTls = await forwardOnce(tls, tls.url.replace(/^wss:/, 'ws:'), []);
			assert.equal(toTls.code, 4, toTls.stderr);
			assert.match(
				toTls.stderr,
				/closed the connection during the upgrade \(if the agent serves TLS, use wss:\/\/\)/,
			);
			const toPlain = await forwardOnce(plain, plain.url.replace(/^ws:/, 'wss:'), []);
			assert.equal(toPlain.code, 4, toPlain.stderr);
			assert.match(
				toPlain.stderr,
				/did not complete a TLS handshake \(\w+\): an agent without --tls-cert is reached with ws:\/\//,
			);
		} finally {
			await tls.stop();
			await plain.stop();
		}
	});

	it('carries berth client (the proxy) over https:// too, the URL read as wss://', async () => {
		const ca = await createTestCa();
		const agent = await startTlsAgent(ca);
		const web = await startWeb();
		const client = spawnCli([
			'client',
			'-u',
			agent.url.replace(/^wss:/, 'https:'),
			'--token-file',
			tokenFileOf(agent),
			'-p',
			'0',
			'--ca-file',
			ca.certFile,
		]);
		try {
			const line = await client.waitForStdout(/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+)/, 15_000);
			const answer = await curl([
				'--socks5-hostname',
				`127.0.0.1:${line[1]}`,
				`http://127.0.0.1:${web.port}/tls`,
			]);
			assert.equal(answer.stdout, 'hello /tls', answer.stderr);
		} finally {
			assert.equal(await client.stop(), 0);
			await web.close();
			await agent.stop();
		}
	});
});

describe('TLS: flags and their mistakes', () => {
	it('refuses half of the pair, unreadable files and a key that is not the certificate’s (exit 2, naming the file)', async () => {
		const ca = await createTestCa();
		const issued = await ca.issue('agent');
		const other = await ca.issue('other');
		const garbage = join(tempDir(), 'garbage.pem');
		writeFileSync(garbage, 'not a pem file\n', { mode: 0o600 });
		const missing = join(tempDir(), 'missing.pem');
		const cases: ReadonlyArray<readonly [readonly string[], RegExp]> = [
			[['--tls-cert', issued.certFile], /--tls-cert and --tls-key go together: give both/],
			[['--tls-key', issued.keyFile], /--tls-cert and --tls-key go together/],
			[
				['--tls-cert', missing, '--tls-key', issued.keyFile],
				new RegExp(`cannot read --tls-cert ${missing}: ENOENT`),
			],
			[
				['--tls-cert', issued.certFile, '--tls-key', missing],
				new RegExp(`cannot read --tls-key ${missing}: ENOENT`),
			],
			[
				['--tls-cert', garbage, '--tls-key', issued.keyFile],
				new RegExp(`--tls-cert ${garbage} holds no PEM certificate`),
			],
			[
				['--tls-cert', issued.certFile, '--tls-key', garbage],
				new RegExp(`--tls-key ${garbage} holds no PEM private key`),
			],
			[
				['--tls-cert', issued.certFile, '--tls-key', other.keyFile],
				new RegExp(
					`--tls-key ${other.keyFile} is not the private key of the certificate in --tls-cert ${issued.certFile}`,
				),
			],
		];
		for (const [flags, message] of cases) {
			const result = await runCli(['server', '--port', '0', ...flags]);
			assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
			assert.match(result.stderr, message);
			assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
			assert.equal(result.stdout, '', 'it never listened');
		}
	});

	it('warns when the key file is open to other users', async () => {
		const ca = await createTestCa();
		const { certFile, keyFile } = await ca.issue('agent');
		chmodSync(keyFile, 0o644);
		const agent = await startAgent({ args: ['--tls-cert', certFile, '--tls-key', keyFile] });
		try {
			await agent.waitForLog(
				new RegExp(
					`--tls-key ${keyFile} is open to other users \\(mode 0644\\): whoever can read it can pose as this agent`,
				),
			);
		} finally {
			await agent.stop();
		}
	});

	it('refuses client flags that cannot apply (exit 2): --insecure or --ca-file with ws://, both at once, a CA file that is none', async () => {
		const ca = await createTestCa();
		const garbage = join(tempDir(), 'ca.pem');
		writeFileSync(garbage, 'no certificate here\n');
		const cases: ReadonlyArray<readonly [readonly string[], RegExp]> = [
			[
				['forward', '-u', 'ws://127.0.0.1:1', '-L', '0:x:1', '--insecure'],
				/--insecure is about TLS, and ws:\/\/127\.0\.0\.1:1 is not: use a wss:\/\/ URL/,
			],
			[['provider', '-u', 'ws://127.0.0.1:1', '--ca-file', ca.certFile], /--ca-file is about TLS/],
			[
				['connector', '-u', 'wss://127.0.0.1:1', '--ca-file', ca.certFile, '--insecure'],
				/--ca-file and --insecure contradict each other/,
			],
			[
				['client', '-u', 'wss://127.0.0.1:1', '--ca-file', garbage],
				new RegExp(`--ca-file ${garbage} holds no PEM certificate`),
			],
			[
				['forward', '-u', 'wss://127.0.0.1:1', '-L', '0:x:1', '--ca-file', '/nonexistent/ca.pem'],
				/cannot read --ca-file \/nonexistent\/ca\.pem: ENOENT/,
			],
		];
		for (const [argv, message] of cases) {
			const result = await runCli(argv, { env: { BERTH_TOKEN: 'a'.repeat(32) } });
			assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
			assert.match(result.stderr, message);
		}
	});
});

describe('TLS: the warning about a network listener without it', () => {
	it('warns at start on a non-loopback host without TLS, and says what to do', async () => {
		const agent = await startAgent({ args: ['--host', '0.0.0.0'] });
		try {
			await agent.waitForLog(
				/warn .*listening on 0\.0\.0\.0 without TLS: tokens and traffic cross the network in clear; serve TLS with --tls-cert and --tls-key, or listen on 127\.0\.0\.1 and reach the agent through an SSH tunnel/,
			);
		} finally {
			await agent.stop();
		}
	});

	it('does not warn with TLS, nor on loopback', async () => {
		const ca = await createTestCa();
		for (const agent of [await startTlsAgent(ca, {}, { args: ['--host', '0.0.0.0'] }), await startAgent()]) {
			try {
				await agent.waitForLog(/agent started/);
				assert.ok(!agent.stderr.some((l) => l.includes('without TLS')), agent.stderr.join('\n'));
			} finally {
				await agent.stop();
			}
		}
	});
});
