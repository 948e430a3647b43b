import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { runCli, spawnCli, tempDir, type CliProcess } from '../helpers/agent-process';
import { httpThrough, startHttpTarget } from '../helpers/http-target';
import { sha256 } from '../helpers/net';
import { waitFor, within } from '../helpers/wait';

/**
 * `berth forward --peer vscode` against the REAL VS Code server (installed in .peer/ by
 * .ci/install-vscode-server.sh): Tunnel connections over raw TCP, no HMAC (VS Code has no vsda).
 */

const ROOT = join(__dirname, '..', '..');
/** Where .ci/install-vscode-server.sh installed it (the script's own BERTH_PEER_DIR knob). */
const PEER_ENV = join(process.env['BERTH_PEER_DIR'] || join(ROOT, '.peer'), 'env.sh');
const UPLOAD_BYTES = 10 * 1024 * 1024;

/** $BERTH_VSCODE_NODE and $BERTH_VSCODE_SERVER_MAIN, as .peer/env.sh sets them. */
function peerEnvironment(): { node: string; serverMain: string } {
	if (!existsSync(PEER_ENV)) {
		assert.fail(
			`${PEER_ENV} is missing: run .ci/install-vscode-server.sh to install the real VS Code server`,
		);
	}
	const result = spawnSync(
		'bash',
		[
			'-c',
			'source "$1" && printf "%s\\n%s\\n" "$BERTH_VSCODE_NODE" "$BERTH_VSCODE_SERVER_MAIN"',
			'bash',
			PEER_ENV,
		],
		{ encoding: 'utf8' },
	);
	assert.equal(result.status, 0, `sourcing ${PEER_ENV} failed: ${result.stderr}`);
	const [node, serverMain] = result.stdout.split('\n');
	for (const path of [node, serverMain]) {
		assert.ok(
			path && existsSync(path),
			`${PEER_ENV} names ${JSON.stringify(path)}, which does not exist: run .ci/install-vscode-server.sh`,
		);
	}
	return { node: node!, serverMain: serverMain! };
}

interface VsCodeServer {
	readonly port: number;
	readonly child: ChildProcess;
	stop(): Promise<void>;
}

/** Starts the real VS Code server in its own process group (it spawns children) and waits for its port. */
async function startVsCodeServer(tokenFile: string): Promise<VsCodeServer> {
	const { node, serverMain } = peerEnvironment();
	const dir = tempDir('berth-vscode-');
	const child = spawn(
		node,
		[
			serverMain,
			'--host',
			'127.0.0.1',
			'--port',
			'0',
			'--connection-token-file',
			tokenFile,
			'--accept-server-license-terms',
			'--server-data-dir',
			join(dir, 'server-data'),
			'--user-data-dir',
			join(dir, 'user-data'),
			'--extensions-dir',
			join(dir, 'extensions'),
			'--telemetry-level',
			'off',
		],
		{ detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
	);
	const output: string[] = [];
	createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
	createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	/** Whether any process of the server's group is still alive. */
	const groupAlive = (): boolean => {
		try {
			process.kill(-child.pid!, 0);
			return true;
		} catch {
			return false;
		}
	};
	const stop = async (): Promise<void> => {
		// The whole group: the server's children (pty host, file watcher...) must not outlive the test.
		const signalGroup = (signal: NodeJS.Signals): void => {
			try {
				process.kill(-child.pid!, signal);
			} catch {
				// the group is already gone
			}
		};
		signalGroup('SIGTERM');
		await waitFor(() => !groupAlive(), 'the VS Code server and its children to stop', 10_000).catch(() =>
			signalGroup('SIGKILL'),
		);
		await within(exited, 5_000, 'the VS Code server to exit');
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		const port = await waitFor(
			() => {
				if (child.exitCode !== null) {
					throw new Error(`the VS Code server exited with ${child.exitCode}:\n${output.join('\n')}`);
				}
				const line = output.find((l) => /^Extension host agent listening on \d+$/.test(l));
				return line ? Number(/(\d+)$/.exec(line)![1]) : undefined;
			},
			'the VS Code server to listen',
			60_000,
			50,
		);
		return { port, child, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

describe('berth forward --peer vscode through the real VS Code server', () => {
	let vscode: VsCodeServer;
	let http: Awaited<ReturnType<typeof startHttpTarget>>;
	let tokenFile: string;
	let forward: CliProcess;
	let localPort: number;

	before(async () => {
		tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, randomBytes(16).toString('hex') + '\n', { mode: 0o600 });
		vscode = await startVsCodeServer(tokenFile);
		http = await startHttpTarget();
		forward = spawnCli([
			'forward',
			'--peer',
			'vscode',
			'-u',
			`ws://127.0.0.1:${vscode.port}`,
			'-L',
			`0:127.0.0.1:${http.port}`,
			'--token-file',
			tokenFile,
		]);
		const line = await forward.waitForStdout(
			new RegExp(`^Forwarding 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:${http.port} via `),
			30_000,
		);
		localPort = Number(line[1]);
	});
	after(async () => {
		try {
			if (forward) {
				assert.equal(await forward.stop(), 0);
			}
			http?.close();
		} finally {
			await vscode?.stop();
		}
	});

	it('is really talking to VS Code: its /version is a git commit', async () => {
		const commit = await (await fetch(`http://127.0.0.1:${vscode.port}/version`)).text();
		assert.match(commit, /^[0-9a-f]{40}$/);
		const ours = await runCli(['--version']);
		assert.ok(!ours.stdout.includes(commit), 'a different build from ours');
	});

	it('warns that the server is not authenticated', async () => {
		const warning = await forward.waitForStderr(/warn .*VS Code server/);
		assert.match(warning, /NOT verified/);
	});

	it('carries an HTTP request', async () => {
		const answer = await within(httpThrough(localPort, '/hello'), 10_000, 'the HTTP answer');
		assert.deepEqual(answer, { status: 200, body: 'hello from the target' });
	});

	it('carries a 10 MiB upload that arrives with the same SHA-256', async () => {
		const data = randomBytes(UPLOAD_BYTES);
		const answer = await within(httpThrough(localPort, '/sha256', data), 30_000, 'the upload');
		assert.equal(answer.status, 200);
		assert.equal(answer.body, `${UPLOAD_BYTES} ${sha256(data)}`);
	});

	it('refuses --peer vscode with --transport websocket: exit 2', async () => {
		const cli = await runCli([
			'forward',
			'--peer',
			'vscode',
			'--transport',
			'websocket',
			'-u',
			`ws://127.0.0.1:${vscode.port}`,
			'-L',
			`0:127.0.0.1:${http.port}`,
			'--token-file',
			tokenFile,
		]);
		assert.equal(cli.code, 2, cli.stderr);
		assert.match(cli.stderr, /--peer vscode/);
		assert.match(cli.stderr, /--transport tcp/);
	});

	it('without --peer vscode, refuses the server that cannot sign: exit 3', async () => {
		const cli = await runCli([
			'forward',
			'-u',
			`ws://127.0.0.1:${vscode.port}`,
			'-L',
			`0:127.0.0.1:${http.port}`,
			'--token-file',
			tokenFile,
			'--skip-commit-check',
		]);
		assert.equal(cli.code, 3, cli.stderr);
		assert.match(cli.stderr, /--peer vscode/, 'the message says how to reach a VS Code server');
	});
});
