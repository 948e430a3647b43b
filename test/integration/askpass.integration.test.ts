import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AskpassServer, type AskpassQuestion } from '../../extension/ssh/askpass-server';
import { SERVER_JS, tempDir } from '../helpers/agent-process';
import { startSshServer, type SshServer } from '../helpers/sshd';
import { waitFor, within } from '../helpers/wait';

/**
 * ssh's prompts in VS Code: the extension's AskpassServer with the built helper (dist/askpass.js)
 * behind its launcher, run as ssh runs it (the prompt as the one argument, the ticket in the
 * environment), and then by a real ssh against a real sshd that asks for a host key and a
 * passphrase. The handler stands in for VS Code's input box.
 */

const ASKPASS_JS = join(dirname(SERVER_JS), 'askpass.js');
/** Generous: an ssh login on a loaded 2-core machine takes seconds. */
const SSH_WAIT_MS = 45_000;
const PASSPHRASE = 'correct horse battery staple';

interface Run {
	readonly code: number | null;
	readonly stdout: string;
	readonly stderr: string;
}

/** Runs the launcher as ssh does: `$SSH_ASKPASS PROMPT` with ssh's environment. */
function runAskpass(
	env: Readonly<Record<string, string>>,
	prompt: string,
	extra: Record<string, string> = {},
) {
	const child = spawn(env['SSH_ASKPASS']!, [prompt], {
		env: { ...process.env, ...env, ...extra },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
	child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
	const done = new Promise<Run>((resolve) =>
		child.once('close', (code) => resolve({ code, stdout, stderr })),
	);
	return { child, done: within(done, SSH_WAIT_MS, 'the askpass helper to exit') };
}

describe('ssh askpass: the extension asks for ssh', () => {
	let server: AskpassServer;
	let questions: AskpassQuestion[];
	let answer: (q: AskpassQuestion, signal: AbortSignal) => Promise<string | undefined>;

	beforeEach(async () => {
		questions = [];
		answer = async () => 'unused';
		server = await AskpassServer.start({
			nodePath: process.execPath,
			mainPath: ASKPASS_JS,
			ask: (q, signal) => {
				questions.push(q);
				return answer(q, signal);
			},
		});
	});
	afterEach(() => server.dispose());

	it("prints the user's answer for ssh, through the launcher, a socket only this user reaches, and the helper", async () => {
		const ticket = server.open('alice@devbox:2222');
		const launcher = ticket.env['SSH_ASKPASS']!;
		const socket = ticket.env['BERTH_ASKPASS_SOCKET']!;
		assert.equal(statSync(dirname(socket)).mode & 0o777, 0o700);
		assert.equal(statSync(socket).mode & 0o777, 0o600);
		assert.equal(statSync(launcher).mode & 0o777, 0o700);
		assert.equal(ticket.env['SSH_ASKPASS_REQUIRE'], 'force');
		answer = async () => PASSPHRASE;
		const prompt = "Enter passphrase for key '/home/alice/.ssh/id_ed25519': ";
		const run = await runAskpass(ticket.env, prompt).done;
		assert.deepEqual(run, { code: 0, stdout: `${PASSPHRASE}\n`, stderr: '' });
		assert.deepEqual(questions, [{ host: 'alice@devbox:2222', prompt, mode: 'input' }]);
	});

	it('exits 1 with nothing on stdout when the user cancels', async () => {
		answer = async () => undefined;
		const run = await runAskpass(server.open('devbox').env, 'Password: ').done;
		assert.equal(run.code, 1);
		assert.equal(run.stdout, '');
		assert.equal(questions.length, 1);
	});

	it('asks nothing for a ticket that ended, or for a helper without one', async () => {
		const ticket = server.open('devbox');
		ticket.dispose();
		const ended = await runAskpass(ticket.env, 'Password: ').done;
		assert.equal(ended.code, 1);
		const forged = await runAskpass(ticket.env, 'Password: ', { BERTH_ASKPASS_TICKET: 'A'.repeat(32) }).done;
		assert.equal(forged.code, 1);
		const none = await runAskpass(ticket.env, 'Password: ', { BERTH_ASKPASS_TICKET: '' }).done;
		assert.equal(none.code, 1);
		assert.match(none.stderr, /BERTH_ASKPASS_TICKET are not set/);
		assert.deepEqual(questions, []);
	});

	it("gives ssh's confirmations and notes their mode; a yes is exit 0", async () => {
		const ticket = server.open('devbox');
		answer = async () => '';
		const confirm = await runAskpass(ticket.env, 'Allow shared connection to devbox? ', {
			SSH_ASKPASS_PROMPT: 'confirm',
		}).done;
		assert.equal(confirm.code, 0);
		await runAskpass(ticket.env, 'Confirm user presence for key', { SSH_ASKPASS_PROMPT: 'none' }).done;
		assert.deepEqual(
			questions.map((q) => q.mode),
			['confirm', 'notify'],
		);
	});

	it('closes the question when the helper goes away (ssh gave up)', async () => {
		let aborted = false;
		answer = (_q, signal) =>
			new Promise((resolve) =>
				signal.addEventListener('abort', () => {
					aborted = true;
					resolve(undefined);
				}),
			);
		const { child, done } = runAskpass(server.open('devbox').env, 'Password: ');
		await waitFor(() => questions.length === 1, 'the question to be asked');
		child.kill('SIGKILL');
		await done;
		await waitFor(() => aborted, 'the question to be closed');
	});

	it('asks one question at a time: the others wait for their turn', async () => {
		const ticket = server.open('devbox');
		let release!: () => void;
		const first = new Promise<void>((resolve) => (release = resolve));
		answer = async (q) => {
			if (q.prompt === 'one') {
				await first;
			}
			return q.prompt;
		};
		const one = runAskpass(ticket.env, 'one').done;
		await waitFor(() => questions.length === 1, 'the first question');
		const others = ['two', 'three'].map((p) => runAskpass(ticket.env, p).done);
		await waitFor(() => server.pending === 3, 'the other two questions to arrive');
		assert.deepEqual(
			questions.map((q) => q.prompt),
			['one'],
			'a second question was shown while the first was open',
		);
		release();
		const runs = await Promise.all([one, ...others]);
		assert.deepEqual(
			runs.map((r) => r.stdout),
			['one\n', 'two\n', 'three\n'],
		);
		assert.equal(questions.length, 3);
		assert.equal(server.pending, 0);
	});

	it('removes its folder when disposed, and a helper then fails', async () => {
		const ticket = server.open('devbox');
		server.dispose();
		assert.equal(existsSync(dirname(ticket.env['SSH_ASKPASS']!)), false);
		const helper = spawn(process.execPath, [ASKPASS_JS, 'Password: '], {
			env: { ...process.env, ...ticket.env },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stderr = '';
		helper.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		const code = await within(
			new Promise<number | null>((resolve) => helper.once('close', resolve)),
			SSH_WAIT_MS,
			'the helper to exit',
		);
		assert.equal(code, 1);
		assert.match(stderr, /cannot reach VS Code/);
	});
});

describe('ssh askpass with a real ssh', () => {
	let sshd: SshServer;
	let server: AskpassServer;
	let dir: string | undefined;
	const questions: AskpassQuestion[] = [];

	before(async () => {
		sshd = await startSshServer();
		server = await AskpassServer.start({
			nodePath: process.execPath,
			mainPath: ASKPASS_JS,
			ask: async (q) => {
				questions.push(q);
				if (/continue connecting \(yes\/no/.test(q.prompt)) {
					return 'yes';
				}
				return /passphrase/.test(q.prompt) ? PASSPHRASE : undefined;
			},
		});
	});
	after(async () => {
		server.dispose();
		await sshd.stop();
		if (dir !== undefined) {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('asks the host key and the passphrase through the handler, and ssh logs in with the answers', async () => {
		dir = tempDir('berth-askpass-ssh-');
		const key = join(dir, 'key');
		copyFileSync(sshd.identityFile, key);
		copyFileSync(`${sshd.identityFile}.pub`, `${key}.pub`);
		execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', PASSPHRASE, '-f', key]);
		const config = join(dir, 'ssh_config');
		writeFileSync(
			config,
			[
				'Host berth-askpass',
				'  HostName 127.0.0.1',
				`  Port ${sshd.port}`,
				`  User ${userInfo().username}`,
				`  IdentityFile ${key}`,
				'  IdentitiesOnly yes',
				'  IdentityAgent none',
				`  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
				'  StrictHostKeyChecking ask',
				'  LogLevel ERROR',
				'',
			].join('\n'),
		);
		const ticket = server.open('berth-askpass');
		const ssh = spawn('ssh', ['-F', config, 'berth-askpass', 'echo logged-in'], {
			env: { ...process.env, ...ticket.env },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		ssh.stdout.on('data', (c: Buffer) => (out += c.toString()));
		ssh.stderr.on('data', (c: Buffer) => (err += c.toString()));
		const code = await within(
			new Promise<number | null>((resolve) => ssh.once('close', resolve)),
			SSH_WAIT_MS,
			'ssh to log in',
		);
		assert.equal(code, 0, err);
		assert.equal(out.trim(), 'logged-in');
		assert.deepEqual(
			questions.map((q) => [q.host, /continue connecting/.test(q.prompt) ? 'host key' : q.prompt.trim()]),
			[
				['berth-askpass', 'host key'],
				['berth-askpass', `Enter passphrase for key '${key}':`],
			],
		);
	});
});
