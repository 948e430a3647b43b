import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
	runCli,
	SERVER_JS,
	spawnCli,
	startAgent,
	tempDir,
	type AgentProcess,
	type CliProcess,
	type CliResult,
} from '../helpers/agent-process';
import { readAll, startEchoServer } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';
import { WireClient } from '../helpers/wire-client';

/**
 * The token stays secret (security review C2, C3, C4, F6, C9/2m, 1q), on the real dist/server.js:
 * never printed, the stored file never followed through a link nor silently replaced, loose modes
 * and links warned about, every read bounded, never in the agent URL, read from a slow pipe, and
 * long enough. Every refusal is checked to be a documented exit with one message, not a crash.
 */

const LISTENING = /^Berth agent listening on ws:\/\/127\.0\.0\.1:(\d+)$/;
/** A token the agent accepts (16 characters or more). */
const GOOD_TOKEN = 'Good_token-0123456789';
/**
 * Bash, inside the producer of `forwardFromPipe`: waits until the forward (`$$`, which bash became
 * by `exec`) reads its stdin, whose pipe Node then makes non-blocking (O_NONBLOCK, 04000 in
 * /proc/PID/fdinfo/0), and a moment more. Writing only then breaks a synchronous read (EAGAIN,
 * read as empty) every time, not only when Node happens to start before the producer writes.
 * It gives up, and ends, if the forward is gone.
 */
const UNTIL_THE_FORWARD_READS =
	'for i in $(seq 500); do [ -e /proc/$$/fdinfo/0 ] || exit 0; ' +
	'f=$(awk "/^flags/{print \\$2}" /proc/$$/fdinfo/0 2>/dev/null); ' +
	'[ -n "$f" ] && (( 8#$f & 04000 )) && break; sleep 0.02; done; sleep 0.1';
/** Generous bounds that express requirements ("fails at once", "starts"), never pass/fail timing. */
const PROMPTLY_MS = 5_000;

/** A fresh HOME whose Berth folder is the default one, `$HOME/.config/berth` (no overriding variable). */
function freshHome(): { env: Record<string, string>; configDir: string; tokenPath: string } {
	const home = tempDir('berth-home-');
	const configDir = join(home, '.config', 'berth');
	return {
		env: { HOME: home, BERTH_CONFIG_DIR: '', XDG_CONFIG_HOME: '' },
		configDir,
		tokenPath: join(configDir, 'token'),
	};
}

/** A file holding `contents` with `mode` (set after writing: the umask cannot change it). */
function writeFile(contents: string, mode: number, name = 'token'): string {
	const path = join(tempDir(), name);
	writeFileSync(path, contents);
	chmodSync(path, mode);
	return path;
}

function modeOf(path: string): number {
	return statSync(path).mode & 0o777;
}

/** A refusal: the documented exit code, one `berth:` line on stderr, no stack trace, no crash. */
function assertRefused(result: CliResult, code: number, pattern: RegExp, secret?: string): void {
	assert.equal(result.code, code, `exit code; stderr:\n${result.stderr}`);
	const lines = result.stderr.trimEnd().split('\n');
	assert.equal(lines.length, 1, `one stderr line:\n${result.stderr}`);
	assert.match(lines[0]!, /^berth: /);
	assert.match(lines[0]!, pattern);
	assertNoStackTrace(result.stderr);
	if (secret !== undefined) {
		assert.ok(
			!result.stderr.includes(secret) && !result.stdout.includes(secret),
			'the token is not repeated',
		);
	}
}

function assertNoStackTrace(stderr: string): void {
	assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
	assert.doesNotMatch(stderr, /Uncaught|TypeError|RangeError|ReferenceError/, 'no uncaught error');
}

/** Starts `berth server --port 0 ARGS` and waits for its first line, which must be exact. */
async function startServer(
	args: readonly string[],
	env: Record<string, string> = {},
): Promise<{ cli: CliProcess; port: number }> {
	const cli = spawnCli(['server', '--port', '0', ...args], { env });
	await cli.waitForStdout(/^Berth agent listening on /, 15_000);
	assert.match(cli.stdout[0]!, LISTENING, 'the first stdout line');
	return { cli, port: Number(LISTENING.exec(cli.stdout[0]!)![1]) };
}

/** Stops a server or forward with SIGTERM: it must exit 0 (it did not crash meanwhile). */
async function stopCleanly(cli: CliProcess): Promise<void> {
	assert.equal(cli.child.exitCode, null, `still running before the stop: ${cli.stderr.join('\n')}`);
	assert.equal(await cli.stop(), 0, cli.stderr.join('\n'));
	assertNoStackTrace(cli.stderr.join('\n'));
}

async function handshakeOk(port: number, token: string): Promise<void> {
	const client = await WireClient.raw(port);
	try {
		assert.deepEqual((await client.handshake({ token, connectionType: 1 })).reply, { type: 'ok' });
	} finally {
		client.destroy();
	}
}

describe('berth server: the stored token is never printed', () => {
	it('a fresh start prints no token on stdout or stderr, but a command that prints the signed-in link', async () => {
		const home = freshHome();
		for (const start of ['generated', 'stored']) {
			const { cli, port } = await startServer(['--log-level', 'debug'], home.env);
			try {
				const line = await cli.waitForStdout(
					/^Status page: (http:\/\/127\.0\.0\.1:\d+\/) \(the link that signs in: (.+)\)$/,
				);
				const token = readFileSync(home.tokenPath, 'utf8').trim();
				assert.equal(token.length, 36, `${start}: a UUID`);
				await cli.waitForStderr(/agent started/);
				for (const [stream, lines] of [
					['stdout', cli.stdout],
					['stderr', cli.stderr],
				] as const) {
					assert.ok(
						lines.every((l) => !l.includes(token)),
						`${start}: the token on ${stream}:\n${lines.join('\n')}`,
					);
				}
				assert.ok(
					cli.stdout.some((l) => l.includes(home.tokenPath)),
					`${start}: stdout says where the token is`,
				);
				const printed = await promisify(execFile)('sh', ['-c', line[2]!]);
				assert.equal(printed.stdout, `${line[1]}?tkn=${token}\n`, `${start}: the command prints the link`);
				const page = await fetch(printed.stdout.trim(), { redirect: 'manual' });
				assert.equal(page.status, 302, 'the link signs in (cookie and redirect)');
				assert.match(page.headers.get('set-cookie') ?? '', /^vscode-tkn=/);
				await handshakeOk(port, token);
			} finally {
				await stopCleanly(cli);
			}
		}
	});
});

describe('berth server: the stored token file', () => {
	it('is refused when it is a symbolic link: exit 2, and the file it points to keeps its mode and contents', async () => {
		const home = freshHome();
		const outside = writeFile(GOOD_TOKEN + '\n', 0o644, 'other-file');
		mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
		symlinkSync(outside, home.tokenPath);
		const result = await runCli(['server', '--port', '0'], { env: home.env });
		assertRefused(result, 2, /stored token .* is a symbolic link: Berth does not follow it/, GOOD_TOKEN);
		assert.equal(modeOf(outside), 0o644, 'the mode of the file outside is unchanged');
		assert.equal(readFileSync(outside, 'utf8'), GOOD_TOKEN + '\n', 'and its contents');
	});

	it('that others could read earns a warning that it may have leaked; it is tightened to 0600 and still used', async () => {
		const home = freshHome();
		mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
		writeFileSync(home.tokenPath, GOOD_TOKEN + '\n');
		chmodSync(home.tokenPath, 0o644);
		const { cli, port } = await startServer([], home.env);
		try {
			const warning = await cli.waitForStderr(/warn .*stored token .* open to other users \(mode 0644\)/);
			assert.match(warning, /may have leaked/);
			assert.ok(!warning.includes(GOOD_TOKEN), 'the warning does not repeat the token');
			assert.equal(modeOf(home.tokenPath), 0o600);
			await handshakeOk(port, GOOD_TOKEN);
		} finally {
			await stopCleanly(cli);
		}
	});

	for (const contents of ['my token\n', 'short-token\n', '']) {
		it(`holding ${JSON.stringify(contents)} is an error (exit 2), never silently replaced`, async () => {
			const home = freshHome();
			mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
			writeFileSync(home.tokenPath, contents, { mode: 0o600 });
			const result = await runCli(['server', '--port', '0'], { env: home.env });
			assertRefused(result, 2, /stored token .* is not a valid connection token: .*fix it, or delete it/);
			assert.equal(readFileSync(home.tokenPath, 'utf8'), contents, 'the file is left as it was');
		});
	}
});

describe('berth server: --connection-token-file', () => {
	it('that others can read, or that is a symbolic link, is warned about and used', async () => {
		const loose = writeFile(GOOD_TOKEN + '\n', 0o644);
		const tight = writeFile(GOOD_TOKEN + '\n', 0o600);
		const link = join(tempDir(), 'link');
		symlinkSync(tight, link);
		const cases: [string, RegExp][] = [
			[
				loose,
				/warn .*--connection-token-file .* open to other users \(mode 0644\): the token may have leaked/,
			],
			[link, /warn .*--connection-token-file .* is a symbolic link to /],
		];
		for (const [path, warning] of cases) {
			const { cli, port } = await startServer(['--connection-token-file', path]);
			try {
				await cli.waitForStderr(warning);
				await handshakeOk(port, GOOD_TOKEN);
				assert.ok(
					cli.stderr.every((l) => !l.includes(GOOD_TOKEN)),
					'no token on stderr',
				);
			} finally {
				await stopCleanly(cli);
			}
		}
		assert.equal(modeOf(loose), 0o644, "the user's own file keeps its mode");
	});

	it('that is /dev/zero fails at once with a message (a bounded read)', async () => {
		const started = Date.now();
		const result = await runCli(['server', '--port', '0', '--connection-token-file', '/dev/zero'], {
			timeoutMs: 20_000,
		});
		assertRefused(result, 2, /--connection-token-file \/dev\/zero holds more than 16 KiB/);
		assert.ok(Date.now() - started < PROMPTLY_MS, 'within a few seconds, not after filling memory');
	});

	it('accepts a long token (8 KiB, room for signed tokens) and refuses one over 16 KiB', async () => {
		const long = 'L'.repeat(8 * 1024);
		const { cli, port } = await startServer(['--connection-token-file', writeFile(long + '\n', 0o600)]);
		try {
			await handshakeOk(port, long);
		} finally {
			await stopCleanly(cli);
		}
		const tooLong = writeFile('L'.repeat(16 * 1024 + 1), 0o600);
		assertRefused(
			await runCli(['server', '--port', '0', '--connection-token-file', tooLong]),
			2,
			/more than 16 KiB/,
		);
	});

	it('refuses a token shorter than 16 characters, from the file or the flag, saying why', async () => {
		const fifteen = 'abcdefghijklmno';
		for (const args of [
			['--connection-token-file', writeFile(fifteen + '\n', 0o600)],
			['--connection-token', fifteen],
			['--connection-token', 'a'],
		]) {
			const result = await runCli(['server', '--port', '0', ...args]);
			assertRefused(
				result,
				2,
				/is not a valid connection token: it has \d+ characters, and an agent needs at least 16, so that it cannot be guessed/,
				fifteen,
			);
		}
	});
});

describe('berth forward: the client token', () => {
	let agent: AgentProcess;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;
	let tokenFile: string;

	before(async () => {
		agent = await startAgent();
		echo = await startEchoServer();
		tokenFile = writeFile(agent.token! + '\n', 0o600);
	});
	after(async () => {
		await echo.close();
		assert.equal(await agent.stop(), 0, 'the agent survived every test');
		assertNoStackTrace(agent.stderr.join('\n'));
	});

	const forwardArgs = (): string[] => ['forward', '-u', agent.url, '-L', `0:127.0.0.1:${echo.port}`];
	const noEnvToken = { BERTH_TOKEN: '' };

	/** Waits for the forward's line, echoes through it, stops it (exit 0), and checks it printed no token. */
	async function forwardWorks(cli: CliProcess, token = agent.token!): Promise<void> {
		try {
			const line = await cli.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) -> /, 15_000);
			const socket = connect({ port: Number(line[1]), host: '127.0.0.1', allowHalfOpen: true });
			const answer = readAll(socket);
			socket.end('ping through the tunnel');
			assert.equal((await within(answer, PROMPTLY_MS, 'the echo')).toString(), 'ping through the tunnel');
		} finally {
			await stopCleanly(cli);
		}
		const output = [...cli.stdout, ...cli.stderr].join('\n');
		assert.ok(!output.includes(token), `the forward printed the token:\n${output}`);
		assert.equal(agent.child.exitCode, null, 'the agent is still up');
	}

	/**
	 * `berth forward -u URL -L …` whose stdin is a pipe from a shell `producer` (bash runs it as a process
	 * substitution and then becomes the forward, so the forward is this test's own child).
	 */
	function forwardFromPipe(producer: string, env: Record<string, string>, url = agent.url): CliProcess {
		const args = ['forward', '-u', url, '-L', `0:127.0.0.1:${echo.port}`];
		const child = spawn(
			'bash',
			['-c', `exec "$0" "$@" < <(${producer})`, process.execPath, SERVER_JS, ...args],
			{
				env: { ...process.env, BERTH_CONFIG_DIR: tempDir(), ...noEnvToken, ...env },
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		const stdout: string[] = [];
		const stderr: string[] = [];
		createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
		createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
		const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
		return {
			child,
			stdout,
			stderr,
			exited,
			waitForStdout: (pattern, timeoutMs = 10_000) =>
				waitFor(
					() => {
						const found = stdout.map((l) => pattern.exec(l)).find((m) => m !== null);
						if (!found && child.exitCode !== null) {
							throw new Error(`exited ${child.exitCode}: ${stderr.join('\n')}`);
						}
						return found;
					},
					`stdout matching ${pattern}`,
					timeoutMs,
				),
			waitForStderr: (pattern, timeoutMs = 10_000) =>
				waitFor(() => stderr.find((l) => pattern.test(l)), `stderr matching ${pattern}`, timeoutMs),
			stop: async (signal = 'SIGTERM') => {
				if (child.exitCode === null && child.signalCode === null) {
					child.kill(signal);
				}
				return within(exited, 10_000, 'forward exit');
			},
		};
	}

	it('reads a token piped late: (sleep 0.5; cat tokenfile) | berth forward', async () => {
		await forwardWorks(forwardFromPipe('sleep 0.5; cat "$TOKEN_FILE"', { TOKEN_FILE: tokenFile }));
	});

	it('reads a token that a slow producer writes in pieces, after the forward began to read, the newline last', async () => {
		const token = agent.token!;
		const pieces = { P1: token.slice(0, 5), P2: token.slice(5, 20), P3: token.slice(20) };
		const producer = `${UNTIL_THE_FORWARD_READS}; printf %s "$P1"; sleep 0.2; printf %s "$P2"; sleep 0.3; printf "%s\\n" "$P3"`;
		await forwardWorks(forwardFromPipe(producer, pieces));
	});

	it('reads a slow token of 8 KiB (over the 4 KiB that used to read as empty) and sends it whole', async () => {
		const long = 'L'.repeat(8 * 1024);
		const file = writeFile(long + '\n', 0o600);
		const server = await startServer(['--connection-token-file', file]);
		try {
			const producer = `${UNTIL_THE_FORWARD_READS}; head -c 3000 "$F"; sleep 0.3; tail -c +3001 "$F"`;
			await forwardWorks(forwardFromPipe(producer, { F: file }, `ws://127.0.0.1:${server.port}`), long);
		} finally {
			await stopCleanly(server.cli);
		}
	});

	it('refuses an endless --token-file (/dev/zero) or stdin at once, with a message', async () => {
		const started = Date.now();
		const file = await runCli([...forwardArgs(), '--token-file', '/dev/zero'], {
			env: noEnvToken,
			timeoutMs: 20_000,
		});
		assertRefused(file, 2, /--token-file \/dev\/zero holds more than 16 KiB/);
		const piped = forwardFromPipe('cat /dev/zero', {});
		const code = await within(piped.exited, 20_000, 'the forward to give up');
		assertRefused(
			{ code, stdout: piped.stdout.join('\n'), stderr: piped.stderr.join('\n') },
			2,
			/stdin holds more than 16 KiB before a newline/,
		);
		assert.ok(Date.now() - started < 2 * PROMPTLY_MS, 'within a few seconds, not after filling memory');
	});

	it('warns about a --token-file that others can read, or that is a symbolic link, and uses it', async () => {
		const loose = writeFile(agent.token! + '\n', 0o644);
		const link = join(tempDir(), 'link');
		symlinkSync(tokenFile, link);
		const cases: [string, RegExp][] = [
			[loose, /warn .*--token-file .* open to other users \(mode 0644\): the token may have leaked/],
			[link, /warn .*--token-file .* is a symbolic link to /],
		];
		for (const [path, warning] of cases) {
			const cli = spawnCli([...forwardArgs(), '--token-file', path], { env: noEnvToken });
			await cli.waitForStderr(warning);
			await forwardWorks(cli);
		}
	});

	for (const parameter of ['token', 'connectionToken', 'tkn']) {
		it(`refuses ?${parameter}= in the agent URL: exit 2, without repeating the token`, async () => {
			const url = `${agent.url}/?${parameter}=${agent.token}`;
			const result = await runCli([
				'forward',
				'-u',
				url,
				'-L',
				`0:127.0.0.1:${echo.port}`,
				'--token-file',
				tokenFile,
			]);
			assertRefused(result, 2, /the agent URL holds a token: remove it/, agent.token);
		});
	}
});
