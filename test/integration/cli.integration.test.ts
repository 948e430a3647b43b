import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
	copyFileSync,
	existsSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
	runCli,
	SERVER_JS,
	spawnCli,
	startAgent,
	tempDir,
	type AgentProcess,
	type CliProcess,
} from '../helpers/agent-process';
import { freePort, readAll, startEchoServer } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';
import { MessageType, WireClient } from '../helpers/wire-client';

/** `berth` on the command line: help, flags, tokens, exit codes, signals, and the lone bundle. */

const CLI_SOURCES = join(__dirname, '..', '..', 'server', 'cli');
const LISTENING = /^Berth agent listening on ws:\/\/127\.0\.0\.1:(\d+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A flag as a whole word: `--connection-token` does not match inside `--connection-token-file`. */
function mentionsFlag(text: string, flag: string): boolean {
	return new RegExp(`(?<![\\w-])${escapeRegExp(flag)}(?![\\w-])`).test(text);
}

/**
 * The flags a command's parser accepts, read from its source: every key of the options object
 * given to parseFlags (and COMMON_OPTIONS, spread into it), as `--long` or `-L`, plus `short`s.
 */
function flagsAcceptedBy(file: string, command: string): string[] {
	const source = readFileSync(join(CLI_SOURCES, file), 'utf8');
	const start = source.indexOf(`parseFlags('${command}', argv, {`);
	assert.ok(start >= 0, `parseFlags('${command}', ...) in ${file}`);
	let block = source.slice(start, source.indexOf('});', start));
	if (block.includes('...COMMON_OPTIONS')) {
		const args = readFileSync(join(CLI_SOURCES, 'args.ts'), 'utf8');
		const common = args.indexOf('export const COMMON_OPTIONS = {');
		assert.ok(common >= 0, 'COMMON_OPTIONS in args.ts');
		block += args.slice(common, args.indexOf('} as const', common));
	}
	const flags: string[] = [];
	for (const m of block.matchAll(/^\s*(?:'([\w-]+)'|(\w+))\s*:\s*\{([^}]*)\}/gm)) {
		const name = (m[1] ?? m[2])!;
		flags.push(name.length === 1 ? `-${name}` : `--${name}`);
		const short = /short:\s*'(\w)'/.exec(m[3]!)?.[1];
		if (short) {
			flags.push(`-${short}`);
		}
	}
	return flags;
}

/** Starts `berth server ARGS` with spawnCli and waits for its first line. */
async function startServer(
	args: readonly string[],
	options: { env?: Record<string, string>; cwd?: string; script?: string } = {},
): Promise<{ cli: CliProcess; port: number }> {
	const cli = spawnCli(['server', '--port', '0', ...args], options);
	await cli.waitForStdout(/^Berth agent listening on /, 15_000);
	assert.match(cli.stdout[0]!, LISTENING, 'the first stdout line');
	return { cli, port: Number(LISTENING.exec(cli.stdout[0]!)![1]) };
}

async function handshakeOk(port: number, token: string): Promise<void> {
	const client = await WireClient.raw(port);
	try {
		const { reply } = await client.handshake({ token, connectionType: 1 });
		assert.deepEqual(reply, { type: 'ok' }, `a handshake with the token ${token}`);
	} finally {
		client.destroy();
	}
}

function writeTokenFile(contents: string): string {
	const file = join(tempDir(), 'token');
	writeFileSync(file, contents, { mode: 0o600 });
	return file;
}

describe('berth --help', () => {
	const commands = [
		{ argv: ['server', '--help'], file: 'server-command.ts', command: 'server' },
		{ argv: ['forward', '--help'], file: 'forward-command.ts', command: 'forward' },
	];
	for (const { argv, file, command } of commands) {
		it(`\`${argv.join(' ')}\` documents every flag its parser accepts, and only those`, async () => {
			const accepted = flagsAcceptedBy(file, command);
			assert.ok(
				accepted.includes('--help') && accepted.includes('--log-level'),
				`parsed: ${accepted.join(' ')}`,
			);
			assert.ok(accepted.length >= 8, `parsed: ${accepted.join(' ')}`);
			const help = await runCli(argv);
			assert.equal(help.code, 0, help.stderr);
			for (const flag of accepted) {
				assert.ok(mentionsFlag(help.stdout, flag), `${argv.join(' ')} does not document ${flag}`);
			}
			// The other way round: every flag the help names exists (forward's help may name a server flag).
			const known = [...accepted, ...flagsAcceptedBy('server-command.ts', 'server')];
			const documented = new Set(help.stdout.match(/(?<![\w-])--[a-z][\w-]*/g) ?? []);
			for (const flag of documented) {
				assert.ok(known.includes(flag), `${argv.join(' ')} documents ${flag}, which no parser accepts`);
			}
			const short = await runCli([command, '-h']);
			assert.equal(short.code, 0);
			assert.equal(short.stdout, help.stdout);
		});
	}

	it('runs as a program, as `npx berth` and the package bin run it (executable, with its shebang)', async () => {
		const run = await new Promise<{ code: number | null; stdout: string }>((resolve) =>
			execFile(SERVER_JS, ['--help'], (error, stdout) =>
				resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
			),
		);
		assert.equal(run.code, 0, 'dist/server.js is executable');
		assert.match(run.stdout, /^berth: /);
	});

	it("is pure ASCII, so Node holds the bundle's source at one byte per character", () => {
		// One '…' in a kept comment made the whole source a two-byte string (3.2 MB instead of 1.6
		// in every agent's heap), past V8's 8 MB threshold for incremental marking: a mark-compact
		// every 100-250 ms under load. The extension's bundles are checked too. (A server bundle past
		// ~2.5 MB of source would cross that threshold again, ASCII or not: bench/README.md.)
		for (const file of [
			SERVER_JS,
			join(dirname(SERVER_JS), 'extension.js'),
			join(dirname(SERVER_JS), 'askpass.js'),
		]) {
			const offending = readFileSync(file, 'utf8').match(/.{0,40}[\u0080-\uffff]/);
			assert.equal(offending, null, `${file} has a character past ASCII: ${offending?.[0] ?? ''}`);
		}
	});

	it('`--help` names the commands and documents every exit code', async () => {
		const help = await runCli(['--help']);
		assert.equal(help.code, 0, help.stderr);
		for (const command of ['ssh', 'server', 'forward', '--version']) {
			assert.ok(mentionsFlag(help.stdout, command), `--help names ${command}`);
		}
		const exitCodes = readFileSync(join(CLI_SOURCES, 'exit-codes.ts'), 'utf8');
		const codes = [...exitCodes.matchAll(/^\t(\w+): (\d+),$/gm)].map((m) => Number(m[2]));
		assert.deepEqual(codes, [0, 1, 2, 3, 4, 5, 6, 7], 'the exit codes in exit-codes.ts');
		const section = help.stdout.slice(help.stdout.indexOf('Exit codes:'));
		assert.ok(section.length > 'Exit codes:'.length, 'an "Exit codes:" section');
		for (const code of codes) {
			assert.match(section, new RegExp(`^\\s+${code}\\s+\\S`, 'm'), `exit code ${code} documented`);
		}
	});

	it('refuses an unknown flag or command with exit 2 and names it', async () => {
		const flag = await runCli(['server', '--no-such-flag']);
		assert.equal(flag.code, 2);
		assert.match(flag.stderr, /--no-such-flag/);
		const command = await runCli(['frobnicate']);
		assert.equal(command.code, 2);
		assert.match(command.stderr, /frobnicate/);
	});
});

describe('berth --version', () => {
	it('prints the commit that GET /version answers', async () => {
		const cli = await runCli(['--version']);
		assert.equal(cli.code, 0, cli.stderr);
		const commit = /^commit (\S+)$/m.exec(cli.stdout)?.[1];
		assert.ok(commit, cli.stdout);
		assert.match(cli.stdout, /^berth \d+\.\d+\.\d+/);
		const agent = await startAgent();
		try {
			assert.equal(await (await fetch(`http://127.0.0.1:${agent.port}/version`)).text(), commit);
		} finally {
			await agent.stop();
		}
	});
});

describe('berth server: connection token flags', () => {
	it('refuses --without-connection-token with a token flag: exit 2, naming both flags', async () => {
		const file = writeTokenFile('abc\n');
		for (const other of [
			['--connection-token-file', file],
			['--connection-token', 'abc'],
		]) {
			const cli = await runCli(['server', '--port', '0', '--without-connection-token', ...other]);
			assert.equal(cli.code, 2, cli.stderr);
			assert.ok(mentionsFlag(cli.stderr, '--without-connection-token'), cli.stderr);
			assert.ok(mentionsFlag(cli.stderr, other[0]!), cli.stderr);
			assert.equal(cli.stdout, '', 'it never started');
		}
	});

	it('refuses --connection-token with --connection-token-file: exit 2, naming both flags', async () => {
		const cli = await runCli([
			'server',
			'--port',
			'0',
			'--connection-token',
			'abc',
			'--connection-token-file',
			writeTokenFile('abc\n'),
		]);
		assert.equal(cli.code, 2, cli.stderr);
		assert.ok(mentionsFlag(cli.stderr, '--connection-token'), cli.stderr);
		assert.ok(mentionsFlag(cli.stderr, '--connection-token-file'), cli.stderr);
	});

	for (const bad of ['a b', 'tok!en']) {
		it(`refuses the token ${JSON.stringify(bad)}: exit 2, saying which characters are allowed`, async () => {
			const flag = await runCli(['server', '--port', '0', '--connection-token', bad]);
			assert.equal(flag.code, 2, flag.stderr);
			assert.ok(mentionsFlag(flag.stderr, '--connection-token'), flag.stderr);
			assert.match(flag.stderr, /letters, digits, '-' and '_'/);
			const path = writeTokenFile(bad + '\n');
			const file = await runCli(['server', '--port', '0', '--connection-token-file', path]);
			assert.equal(file.code, 2, file.stderr);
			assert.ok(file.stderr.includes(path), `names the file: ${file.stderr}`);
			assert.match(file.stderr, /letters, digits, '-' and '_'/);
		});
	}

	for (const contents of ['abcdefghijklmnop\n', 'abcdefghijklmnop\r\n', 'abcdefghijklmnop']) {
		it(`accepts a token file holding ${JSON.stringify(contents)}: one newline is stripped`, async () => {
			const { cli, port } = await startServer(['--connection-token-file', writeTokenFile(contents)]);
			try {
				await handshakeOk(port, 'abcdefghijklmnop');
			} finally {
				assert.equal(await cli.stop(), 0);
			}
		});
	}

	for (const contents of ['abc\n\n', '', '\n', 'abc\r\n\r\n']) {
		it(`refuses a token file holding ${JSON.stringify(contents)}: exit 2`, async () => {
			const path = writeTokenFile(contents);
			const cli = await runCli(['server', '--port', '0', '--connection-token-file', path]);
			assert.equal(cli.code, 2, cli.stderr);
			assert.ok(cli.stderr.includes(path), cli.stderr);
		});
	}

	it('refuses a token file it cannot read: exit 2, naming it', async () => {
		const path = join(tempDir(), 'missing');
		const cli = await runCli(['server', '--port', '0', '--connection-token-file', path]);
		assert.equal(cli.code, 2, cli.stderr);
		assert.ok(cli.stderr.includes(path), cli.stderr);
		assert.match(cli.stderr, /ENOENT/);
	});

	it('without a token flag: generates a UUID, keeps it 0600 in $BERTH_CONFIG_DIR/token (dir 0700), says how to reach the status page, reuses it', async () => {
		const configDir = join(tempDir(), 'config');
		const env = { BERTH_CONFIG_DIR: configDir };
		const path = join(configDir, 'token');
		const first = await startServer([], { env });
		let token: string;
		try {
			const statusLine = await first.cli.waitForStdout(/^Status page: http:\/\/127\.0\.0\.1:(\d+)\/ /);
			token = readFileSync(path, 'utf8').trim();
			assert.match(token, UUID);
			assert.equal(Number(statusLine[1]), first.port);
			assert.equal(statSync(path).mode & 0o777, 0o600, 'token file mode');
			assert.equal(statSync(configDir).mode & 0o777, 0o700, 'config folder mode');
			assert.ok(
				first.cli.stdout.some((l) => l.includes(path)),
				`stdout says where the token is kept: ${first.cli.stdout.join('\n')}`,
			);
			await handshakeOk(first.port, token);
		} finally {
			assert.equal(await first.cli.stop(), 0);
		}
		const second = await startServer([], { env });
		try {
			await second.cli.waitForStdout(/^Status page: /);
			assert.equal(readFileSync(path, 'utf8').trim(), token, 'the same token on the next start');
			await handshakeOk(second.port, token);
		} finally {
			assert.equal(await second.cli.stop(), 0);
		}
	});

	it('accepts --connection-token X, with a warning that argv is visible to every user', async () => {
		const { cli, port } = await startServer(['--connection-token', 'argv-token_123456']);
		try {
			const warning = await cli.waitForStderr(/warn .*--connection-token/);
			assert.match(warning, /--connection-token-file/, 'the warning says what to use instead');
			assert.ok(!warning.includes('argv-token_123456'), 'the warning does not repeat the token');
			await handshakeOk(port, 'argv-token_123456');
			assert.ok(
				cli.stdout.every((l) => !l.includes('argv-token_123456')),
				'a token the user gave is not printed back',
			);
		} finally {
			assert.equal(await cli.stop(), 0);
		}
	});

	it('refuses a bad --port or --reconnection-grace-time with exit 2', async () => {
		for (const args of [
			['--port', '70000'],
			['--port', 'http'],
			['--reconnection-grace-time', '-5'],
			['--log-level', 'loud'],
		]) {
			const cli = await runCli(['server', ...args, '--without-connection-token']);
			assert.equal(cli.code, 2, `${args.join(' ')}: ${cli.stderr}`);
			assert.ok(mentionsFlag(cli.stderr, args[0]!), cli.stderr);
		}
	});
});

describe('berth server: logs never hold a token', () => {
	for (const format of ['text', 'json']) {
		it(`keeps the token out of stderr (--log-format ${format} --log-level debug), after good and failed connections`, async () => {
			const agent = await startAgent({ args: ['--log-level', 'debug', '--log-format', format] });
			const token = agent.token!;
			const wrong = 'wrongSecret' + token.slice(0, 12);
			const echo = await startEchoServer();
			try {
				const base = `http://127.0.0.1:${agent.port}`;
				await fetch(`${base}/?tkn=${token}`, { redirect: 'manual' });
				await fetch(`${base}/?tkn=${wrong}`, { redirect: 'manual' });
				await fetch(`${base}/nope?tkn=${token}`);
				await fetch(`${base}/`, { headers: { Cookie: `vscode-tkn=${token}` } });
				await fetch(`${base}/`, { method: 'POST', headers: { Cookie: `vscode-tkn=${token}` } });

				const good = await WireClient.raw(agent.port, { query: { tkn: token } });
				assert.deepEqual((await good.handshake({ token, connectionType: 1 })).reply, { type: 'ok' });
				const wrongAuth = await WireClient.raw(agent.port);
				await wrongAuth.handshake({ token: wrong, connectionType: 1 });
				const badSignature = await WireClient.ws(agent.port, { query: { tkn: token } });
				await badSignature.handshake({ token, connectionType: 1, signature: 'bad' });
				const tunnel = await WireClient.raw(agent.port);
				const tunnelReply = await tunnel.handshake({
					token,
					connectionType: 3,
					args: { host: '127.0.0.1', port: echo.port },
				});
				assert.deepEqual(tunnelReply.reply, { type: 'ok' });
				await WireClient.raw(agent.port, {
					query: { tkn: token },
					headers: { Origin: 'http://evil.example' },
				}).catch(() => undefined);
				const garbage = connect({ port: agent.port, host: '127.0.0.1' });
				garbage.on('error', () => undefined);
				garbage.end(`GET /?tkn=${token} HTTP/1.1\r\nBad header line\r\n\r\n`);
				await readAll(garbage).catch(() => undefined);

				await waitFor(
					() => agent.stderr.filter((l) => l.includes('connection')).length >= 5,
					'a log line per connection',
				);
				good.destroy();
				tunnel.destroy();
				wrongAuth.destroy();
				badSignature.destroy();
			} finally {
				await echo.close();
				assert.equal(await agent.stop(), 0);
			}
			await agent.waitForLog(/stopped/);
			const log = agent.stderr.join('\n');
			assert.ok(log.length > 0);
			assert.ok(!log.includes(token), `the token is in the log:\n${log}`);
			assert.ok(!log.includes(wrong), `a client's wrong token is in the log:\n${log}`);
		});
	}
});

describe('berth server: signals and ports', () => {
	for (const signal of ['SIGTERM', 'SIGINT'] as const) {
		it(`exits 0 on ${signal}, and sends a connected Management session a Disconnect`, async () => {
			const agent = await startAgent();
			const raw = await WireClient.raw(agent.port);
			const ws = await WireClient.ws(agent.port);
			for (const client of [raw, ws]) {
				assert.deepEqual((await client.handshake({ token: agent.token, connectionType: 1 })).reply, {
					type: 'ok',
				});
			}
			assert.equal(await agent.stop(signal), 0);
			for (const client of [raw, ws]) {
				const goodbye = await client.next((m) => m.type === MessageType.Disconnect);
				assert.equal(goodbye.type, MessageType.Disconnect);
				await client.waitClosed();
			}
			await agent.waitForLog(new RegExp(`stopping signal=${signal}`));
		});
	}

	it('exits 5 with a message when --port is in use', async () => {
		const blocker = createServer();
		await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
		const port = (blocker.address() as AddressInfo).port;
		try {
			const cli = await runCli(['server', '--port', String(port), '--without-connection-token']);
			assert.equal(cli.code, 5, cli.stderr);
			assert.match(cli.stderr, /EADDRINUSE/);
			assert.ok(cli.stderr.includes(String(port)), cli.stderr);
			assert.match(cli.stderr, /in use/);
		} finally {
			await new Promise<void>((resolve) => blocker.close(() => resolve()));
		}
	});
});

describe('dist/server.js alone in an empty folder', () => {
	let dir: string;
	let script: string;

	before(() => {
		dir = mkdtempSync('/tmp/berth-alone-');
		for (let d = dir; ; d = dirname(d)) {
			assert.ok(!existsSync(join(d, 'node_modules')), `${d}/node_modules exists: the test needs none above`);
			if (d === dirname(d)) {
				break;
			}
		}
		script = join(dir, 'berth-server.js');
		copyFileSync(SERVER_JS, script);
	});
	after(() => rmSync(dir, { recursive: true, force: true }));

	it('prints its version', async () => {
		const cli = await runCli(['--version'], { script, cwd: dir, env: { NODE_PATH: '' } });
		assert.equal(cli.code, 0, cli.stderr);
		const expected = await runCli(['--version']);
		assert.equal(cli.stdout, expected.stdout);
	});

	it('runs `server --port 0` and completes a handshake', async () => {
		const tokenFile = join(dir, 'token');
		writeFileSync(tokenFile, 'alone-token-0123456\n', { mode: 0o600 });
		const { cli, port } = await startServer(['--connection-token-file', tokenFile], {
			script,
			cwd: dir,
			env: { NODE_PATH: '' },
		});
		try {
			await handshakeOk(port, 'alone-token-0123456');
			const ws = await WireClient.ws(port);
			assert.deepEqual((await ws.handshake({ token: 'alone-token-0123456', connectionType: 1 })).reply, {
				type: 'ok',
			});
			ws.destroy();
		} finally {
			assert.equal(await cli.stop(), 0);
		}
	});
});

describe('berth forward', () => {
	let agent: AgentProcess;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;
	let tokenFile: string;

	before(async () => {
		agent = await startAgent();
		echo = await startEchoServer();
		tokenFile = writeTokenFile(agent.token! + '\n');
	});
	after(async () => {
		await echo.close();
		assert.equal(await agent.stop(), 0);
	});

	const forwardArgs = () => ['forward', '-u', agent.url, '-L', `0:127.0.0.1:${echo.port}`];

	/** Runs a forward until it announces its port, echoes a few bytes through it, then stops it. */
	async function forwardWorks(cli: CliProcess): Promise<void> {
		try {
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) -> /);
			const socket = connect({ port: Number(line[1]), host: '127.0.0.1', allowHalfOpen: true });
			const answer = readAll(socket);
			socket.end('ping through the tunnel');
			assert.equal((await within(answer, 5_000, 'the echo')).toString(), 'ping through the tunnel');
		} finally {
			assert.equal(await cli.stop(), 0);
		}
		const output = [...cli.stdout, ...cli.stderr].join('\n');
		assert.ok(!output.includes(agent.token!), `the forward printed the token:\n${output}`);
	}

	it('reads the token from --token-file', async () => {
		await forwardWorks(spawnCli([...forwardArgs(), '--token-file', tokenFile], { env: { BERTH_TOKEN: '' } }));
	});

	it('reads the token from $BERTH_TOKEN', async () => {
		await forwardWorks(spawnCli(forwardArgs(), { env: { BERTH_TOKEN: agent.token! } }));
	});

	it('reads the token from stdin', async () => {
		await forwardWorks(spawnCli(forwardArgs(), { stdin: agent.token! + '\n', env: { BERTH_TOKEN: '' } }));
	});

	it('uses the token it read: a wrong one from each source exits 3', async () => {
		const wrongFile = writeTokenFile('wrong-token\n');
		const results = await Promise.all([
			runCli([...forwardArgs(), '--token-file', wrongFile], { env: { BERTH_TOKEN: '' } }),
			runCli(forwardArgs(), { env: { BERTH_TOKEN: 'wrong-token' } }),
			runCli(forwardArgs(), { stdin: 'wrong-token\n', env: { BERTH_TOKEN: '' } }),
		]);
		for (const [i, result] of results.entries()) {
			assert.equal(result.code, 3, `source #${i}: ${result.stderr}`);
			assert.match(result.stderr, /auth mismatch/);
		}
	});

	it('never takes the token from argv', async () => {
		for (const flag of ['--token', '--connection-token', '-t']) {
			const cli = await runCli([...forwardArgs(), flag, agent.token!], { env: { BERTH_TOKEN: '' } });
			assert.equal(cli.code, 2, `${flag}: ${cli.stderr}`);
		}
		const url = await runCli(
			['forward', '-u', `${agent.url}/?tkn=${agent.token}`, '-L', `0:127.0.0.1:${echo.port}`],
			{ env: { BERTH_TOKEN: agent.token! } },
		);
		assert.equal(url.code, 2, url.stderr);
		assert.match(url.stderr, /token/);
		assert.ok(!url.stderr.includes(agent.token!), 'the message does not repeat the token');
	});

	it('exits 3 when the agent refuses the token', async () => {
		const cli = await runCli([...forwardArgs(), '--token-file', writeTokenFile('not-the-token')]);
		assert.equal(cli.code, 3, cli.stderr);
		assert.match(cli.stderr, /Unauthorized client refused: auth mismatch/);
	});

	it('exits 4 when the agent cannot be reached', async () => {
		const port = await freePort();
		const cli = await runCli(
			[
				'forward',
				'-u',
				`ws://127.0.0.1:${port}`,
				'-L',
				`0:127.0.0.1:${echo.port}`,
				'--token-file',
				tokenFile,
			],
			{ timeoutMs: 20_000 },
		);
		assert.equal(cli.code, 4, cli.stderr);
		assert.match(cli.stderr, /ECONNREFUSED/);
	});

	it('exits 2 for a URL holding ?tkn=, a missing -u or -L, and a bad -L spec', async () => {
		const cases: [string, string[]][] = [
			['?tkn= in the URL', ['-u', `${agent.url}/?tkn=abc`, '-L', `0:127.0.0.1:${echo.port}`]],
			['no -L', ['-u', agent.url]],
			['no -u', ['-L', `0:127.0.0.1:${echo.port}`]],
			['-L nonsense', ['-u', agent.url, '-L', 'nonsense']],
			['-L without a target port', ['-u', agent.url, '-L', '0:127.0.0.1']],
			['-L target port 0', ['-u', agent.url, '-L', '0:127.0.0.1:0']],
			['-L target port 70000', ['-u', agent.url, '-L', '0:127.0.0.1:70000']],
			['-L local port 70000', ['-u', agent.url, '-L', '70000:127.0.0.1:80']],
			['-L unbalanced brackets', ['-u', agent.url, '-L', '[::1:0:127.0.0.1:80']],
			['bad --transport', ['-u', agent.url, '-L', '0:127.0.0.1:80', '--transport', 'udp']],
		];
		for (const [what, args] of cases) {
			const cli = await runCli(['forward', ...args, '--token-file', tokenFile]);
			assert.equal(cli.code, 2, `${what}: ${cli.stderr}`);
			assert.match(cli.stderr, /^berth: \S/, `${what}: one message`);
		}
	});
});
