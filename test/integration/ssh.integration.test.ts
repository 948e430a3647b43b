import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
	runCli,
	SERVER_JS,
	spawnCli,
	tempDir,
	type CliProcess,
	type CliResult,
} from '../helpers/agent-process';
import { readAll, sha256, startEchoServer } from '../helpers/net';
import { startSshServer, type SshServer } from '../helpers/sshd';
import { waitFor, within } from '../helpers/wait';

/**
 * `berth ssh` against a real OpenSSH server (test/helpers/sshd.ts) on this machine: the "host" is
 * this machine as the current user sees it through sshd. Each test keeps the host's side in a
 * folder of its own (`--remote-dir`, never the real ~/.berth) and the client's in its own
 * BERTH_CONFIG_DIR, and ends every agent it started.
 */

/** Generous: an ssh login on a loaded 2-core machine takes seconds. */
const SSH_WAIT_MS = 45_000;

/** One client machine and one folder on the host. */
interface World {
	/** The host's Berth folder (`--remote-dir`). */
	readonly remote: string;
	/** The client's config folder (BERTH_CONFIG_DIR). */
	readonly config: string;
}

describe('berth ssh', () => {
	let sshd: SshServer;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;
	let commit: string;
	const worlds: World[] = [];

	before(async () => {
		sshd = await startSshServer();
		echo = await startEchoServer();
		const version = await runCli(['--version']);
		commit = /^commit (\S+)$/m.exec(version.stdout)![1]!;
	});
	afterEach(() => {
		// Every agent a test started, of any build: the host's state files say which.
		for (const w of worlds.splice(0)) {
			for (const pid of agentPids(w)) {
				signal(pid, 'SIGKILL');
			}
			for (const dir of [dirname(w.remote), w.config]) {
				rmSync(dir, { recursive: true, force: true });
			}
		}
	});
	after(async () => {
		await echo.close();
		await sshd.stop();
	});

	function world(): World {
		const w = { remote: join(tempDir('berth-ssh-host-'), 'berth'), config: tempDir('berth-ssh-client-') };
		worlds.push(w);
		return w;
	}

	function sshArgs(w: World, extra: readonly string[], host = sshd.host): string[] {
		return ['ssh', host, '-F', sshd.configFile, '--remote-dir', w.remote, ...extra];
	}

	/** `berth ssh` that runs until stopped, with a forward to the echo server. */
	function forward(w: World, options: { config?: string } = {}): CliProcess {
		return spawnCli(sshArgs(w, ['-L', `0:127.0.0.1:${echo.port}`]), {
			env: { BERTH_CONFIG_DIR: options.config ?? w.config },
		});
	}

	/** `berth ssh` to completion (no forwards: makes sure the agent runs; or --stop). */
	function run(
		w: World,
		extra: readonly string[] = [],
		options: { script?: string; host?: string } = {},
	): Promise<CliResult> {
		return runCli(sshArgs(w, extra, options.host), {
			env: { BERTH_CONFIG_DIR: w.config },
			timeoutMs: SSH_WAIT_MS,
			...(options.script !== undefined ? { script: options.script } : {}),
		});
	}

	async function localPort(cli: CliProcess): Promise<number> {
		const line = await cli.waitForStdout(
			new RegExp(
				`^Forwarding 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:${echo.port} via ssh://${sshd.host}$`,
			),
			SSH_WAIT_MS,
		);
		return Number(line[1]);
	}

	it('installs and starts the agent on the first connect, and a forward carries bytes', async () => {
		const w = world();
		const cli = forward(w);
		try {
			const port = await localPort(cli);
			assert.equal(await echoThrough(port, 'first connect'), 'first connect');
			assert.ok(
				cli.stderr.some((l) => l.includes(`installing the agent on ${sshd.host}`)),
				cli.stderr.join('\n'),
			);
			assert.ok(
				cli.stderr.some((l) => l.includes(`started the agent on ${sshd.host}`)),
				cli.stderr.join('\n'),
			);
		} finally {
			assert.equal(await cli.stop(), 0, cli.stderr.join('\n'));
		}
		// The host: this build's file, byte for byte; its token 0600; the agent outlives the client.
		const installed = readFileSync(join(w.remote, `server-${commit}.js`));
		assert.equal(sha256(installed), sha256(readFileSync(SERVER_JS)));
		assert.equal(statSync(join(w.remote, `token-${commit}`)).mode & 0o777, 0o600);
		const state = agentState(w, commit);
		assert.ok(isAlive(state.pid), 'the agent stopped with the client');
		// The client: the same token, kept 0600.
		const hosts = join(w.config, 'ssh-hosts.json');
		assert.equal(statSync(hosts).mode & 0o777, 0o600);
		const saved = Object.values(JSON.parse(readFileSync(hosts, 'utf8')).hosts) as {
			token: string;
			commit: string;
		}[];
		assert.equal(saved.length, 1);
		assert.equal(saved[0]!.commit, commit);
		assert.equal(saved[0]!.token, remoteToken(w, commit));
	});

	it('reuses the running agent on a second connect, from this client and from another', async () => {
		const w = world();
		const first = await run(w);
		assert.equal(first.code, 0, first.stderr);
		const { pid } = agentState(w, commit);
		assert.match(
			first.stdout,
			new RegExp(`^Berth agent running on ${sshd.host} \\(pid ${pid}, 127\\.0\\.0\\.1:\\d+ there\\)$`, 'm'),
		);

		const cli = forward(w);
		try {
			assert.equal(await echoThrough(await localPort(cli), 'second connect'), 'second connect');
			assert.ok(
				cli.stderr.some((l) => l.includes(`the agent already runs on ${sshd.host} (pid ${pid}): using it`)),
				cli.stderr.join('\n'),
			);
			assert.ok(!cli.stderr.some((l) => l.includes('installing')), cli.stderr.join('\n'));
		} finally {
			assert.equal(await cli.stop(), 0);
		}
		// Another machine of the same user (no token kept): the host hands it the agent's token.
		const elsewhere = join(dirname(w.remote), 'other-client');
		const other = forward(w, { config: elsewhere });
		try {
			assert.equal(await echoThrough(await localPort(other), 'from elsewhere'), 'from elsewhere');
		} finally {
			assert.equal(await other.stop(), 0);
		}
		assert.equal(agentState(w, commit).pid, pid, 'a second agent was started');
		const saved = JSON.parse(readFileSync(join(elsewhere, 'ssh-hosts.json'), 'utf8')).hosts;
		assert.equal((Object.values(saved)[0] as { token: string }).token, remoteToken(w, commit));
	});

	it('reconnects by itself to the same agent when its ssh connection is killed', async () => {
		const w = world();
		const cli = forward(w);
		try {
			const port = await localPort(cli);
			assert.equal(await echoThrough(port, 'before'), 'before');
			const { pid } = agentState(w, commit);
			const [master] = childProcesses(cli.child.pid!, 'ssh');
			assert.ok(master !== undefined, 'no ssh child of berth ssh');
			signal(master, 'SIGKILL');
			await cli.waitForStderr(/the ssh connection to berth-test was lost; reconnecting/, SSH_WAIT_MS);
			await cli.waitForStderr(/the ssh connection to berth-test is back/, SSH_WAIT_MS);
			await cli.waitForStderr(
				/connected to the agent again; session resumed, no connection lost/,
				SSH_WAIT_MS,
			);
			assert.equal(await echoThrough(port, 'after'), 'after');
			assert.equal(agentState(w, commit).pid, pid, 'the agent was replaced');
			assert.ok(isAlive(pid));
			const [again] = childProcesses(cli.child.pid!, 'ssh');
			assert.ok(again !== undefined && again !== master, 'no new ssh connection');
		} finally {
			assert.equal(await cli.stop(), 0, cli.stderr.join('\n'));
		}
	});

	it("replaces another build's agent for new connections, and leaves it running", async () => {
		const w = world();
		// The same bundle under another commit: a real agent of another build.
		const older = 'b'.repeat(40);
		const olderBundle = join(dirname(w.remote), 'older-server.js');
		writeFileSync(olderBundle, readFileSync(SERVER_JS, 'utf8').replaceAll(commit, older));
		const first = await run(w, [], { script: olderBundle });
		assert.equal(first.code, 0, first.stderr);
		const old = agentState(w, older);

		const cli = forward(w);
		try {
			assert.equal(await echoThrough(await localPort(cli), 'new build'), 'new build');
			assert.ok(
				cli.stderr.some((l) => l.includes('installing the agent')),
				cli.stderr.join('\n'),
			);
			assert.ok(
				cli.stderr.some((l) => l.includes('started the agent')),
				cli.stderr.join('\n'),
			);
		} finally {
			assert.equal(await cli.stop(), 0);
		}
		const current = agentState(w, commit);
		assert.notEqual(current.pid, old.pid);
		assert.ok(isAlive(old.pid), "the other build's agent was stopped");
		assert.ok(existsSync(join(w.remote, `server-${older}.js`)));
		// This build's client does not talk to the other build's agent, even with its token.
		const tokenFile = join(w.remote, `token-${older}`);
		const refused = await runCli([
			'forward',
			'-u',
			`ws://127.0.0.1:${old.port}`,
			'--token-file',
			tokenFile,
			'-L',
			'0:127.0.0.1:1',
		]);
		assert.equal(refused.code, 3, refused.stderr);
		assert.match(refused.stderr, /version mismatch/);
	});

	it('says when the host has no node, and how to fix it, and starts nothing', async () => {
		const w = world();
		const given = await run(w, ['--node', '/nonexistent/node']);
		assert.equal(given.code, 7, given.stderr);
		assert.match(
			given.stderr,
			/berth: \/nonexistent\/node is not an executable file on berth-test: give the path of Node\.js 20 or later there with --node PATH; no agent was started/,
		);
		const onPath = await run(w, [], { host: sshd.hostWithoutNode });
		assert.equal(onPath.code, 7, onPath.stderr);
		assert.match(
			onPath.stderr,
			/berth: no node on berth-test-nonode's PATH \(as a non-interactive ssh session sees it\): install Node\.js 20 or later there, or give the path of one with --node PATH; no agent was started/,
		);
		assert.deepEqual(existsSync(w.remote) ? readdirSync(w.remote) : [], [], 'the host got files');
		assert.ok(!existsSync(join(w.config, 'ssh-hosts.json')), 'a token was kept');
	});

	it("never puts the token in the host's process list", async () => {
		const w = world();
		const cli = forward(w);
		try {
			assert.equal(await echoThrough(await localPort(cli), 'ps'), 'ps');
			const token = remoteToken(w, commit);
			const list = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
			// Not vacuous: the agent, the host's side and the ssh connection are in the list.
			assert.ok(
				list.includes(`server-${commit}.js server --host 127.0.0.1 --port 0 --connection-token-file`),
				list,
			);
			assert.match(list, /ssh -M -S \S+ .* berth-test \/bin\/sh/);
			assert.ok(!list.includes(token), 'the token is in the process list');
		} finally {
			assert.equal(await cli.stop(), 0);
		}
	});

	it('--stop ends the agent and removes its token file, there and here', async () => {
		const w = world();
		assert.equal((await run(w)).code, 0);
		const { pid } = agentState(w, commit);
		const stopped = await run(w, ['--stop']);
		assert.equal(stopped.code, 0, stopped.stderr);
		assert.match(
			stopped.stdout,
			new RegExp(`^Stopped the agent \\(pid ${pid}\\) on berth-test; its token file is removed$`, 'm'),
		);
		await waitFor(() => !isAlive(pid), 'the agent to exit', 10_000);
		assert.ok(!existsSync(join(w.remote, `token-${commit}`)));
		assert.ok(!existsSync(join(w.remote, `agent-${commit}.json`)));
		assert.deepEqual(JSON.parse(readFileSync(join(w.config, 'ssh-hosts.json'), 'utf8')).hosts, {});
		const again = await run(w, ['--stop']);
		assert.equal(again.code, 0, again.stderr);
		assert.match(again.stdout, /^No agent of this build was running on berth-test/m);
	});
});

/** Sends `text` through the forward at 127.0.0.1:port to the echo server; resolves with what came back. */
async function echoThrough(port: number, text: string): Promise<string> {
	const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
	const answer = readAll(socket);
	socket.end(text);
	return (await within(answer, 10_000, `the echo through ${port}`)).toString();
}

/** The host's state file of a build's agent. */
function agentState(w: World, commit: string): { pid: number; port: number } {
	return JSON.parse(readFileSync(join(w.remote, `agent-${commit}.json`), 'utf8'));
}

function remoteToken(w: World, commit: string): string {
	return readFileSync(join(w.remote, `token-${commit}`), 'utf8').trim();
}

/** The process ids in every agent state file of the host's folder. */
function agentPids(w: World): number[] {
	if (!existsSync(w.remote)) {
		return [];
	}
	return readdirSync(w.remote)
		.filter((name) => /^agent-.*\.json$/.test(name))
		.map((name) => (JSON.parse(readFileSync(join(w.remote, name), 'utf8')) as { pid: number }).pid);
}

/** Whether `pid` runs (a zombie does not). */
function isAlive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** The children of `parent` whose command name is `comm`. */
function childProcesses(parent: number, comm: string): number[] {
	const pids: number[] = [];
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) {
			continue;
		}
		try {
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (ppid === parent && command === comm) {
				pids.push(Number(name));
			}
		} catch {
			// Gone meanwhile.
		}
	}
	return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// Gone already.
	}
}
