import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { runCli, spawnCli, startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { echoOnce, startEchoServer } from '../helpers/net';
import { waitFor } from '../helpers/wait';

/** Calls the agent's HTTP API; the JSON answer and the status. */
function api(
	agent: AgentProcess,
	method: string,
	path: string,
	bearer: string | undefined,
	body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
	return new Promise((resolve, reject) => {
		const req = request(
			{
				host: '127.0.0.1',
				port: agent.port,
				method,
				path,
				headers: {
					...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
					...(body ? { 'content-type': 'application/json' } : {}),
				},
			},
			(res) => {
				let text = '';
				res.on('data', (c: Buffer) => (text += c.toString()));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
			},
		);
		req.on('error', reject);
		req.end(body ? JSON.stringify(body) : undefined);
	});
}

interface Issued {
	readonly id: string;
	readonly token: string;
	readonly init_url: string;
}

async function issue(agent: AgentProcess, body: Record<string, unknown>): Promise<Issued> {
	const reply = await api(agent, 'POST', '/api/tokens', agent.token, body);
	assert.equal(reply.status, 201, JSON.stringify(reply.json));
	return reply.json as unknown as Issued;
}

/** `berth forward -L 0:127.0.0.1:PORT` with a user token; resolves with its local port. */
async function forwardWith(agent: AgentProcess, token: string, target: number) {
	const file = join(tempDir(), 'token');
	writeFileSync(file, token + '\n', { mode: 0o600 });
	const cli = spawnCli(['forward', '-u', agent.url, '--token-file', file, '-L', `0:127.0.0.1:${target}`]);
	const match = await cli.waitForStdout(/^Forwarding \S+:(\d+) ->/, 15_000);
	return { cli, port: Number(match[1]) };
}

describe('accounts: user tokens on a real agent', () => {
	let agent: AgentProcess;
	let echo: { port: number; close(): Promise<void> };
	let dataDir: string;

	before(async () => {
		dataDir = tempDir();
		agent = await startAgent({ args: ['--accounts', '--db', join(dataDir, 'tokens.db')] });
		echo = await startEchoServer();
	});
	after(async () => {
		await agent.stop();
		await echo.close();
	});

	it('issues a token with an init URL that pins the agent key, and lists it without the token', async () => {
		const issued = await issue(agent, { email: 'Alice@Example.com', name: 'laptop', ttl: '1h' });
		assert.match(issued.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
		assert.match(issued.init_url, new RegExp(`^http://127\\.0\\.0\\.1:${agent.port}/p/[\\w-]+$`));
		const payload = JSON.parse(Buffer.from(issued.init_url.split('/p/')[1]!, 'base64url').toString());
		assert.equal(payload.t, issued.token);
		const fingerprint = (
			await waitFor(() => agent.stdout.find((l) => l.startsWith('Agent key ')), 'the agent key line')
		).split(' ')[2];
		assert.equal(payload.k, fingerprint);
		const list = await api(agent, 'GET', '/api/tokens', agent.token);
		const row = (list.json['tokens'] as Record<string, unknown>[]).find((t) => t['id'] === issued.id);
		assert.equal(row?.['email'], 'alice@example.com');
		assert.ok(!JSON.stringify(list.json).includes(issued.token), 'never the token itself');
	});

	it('lets a user token forward, shows its user, and cuts it with its streams within 1 s of revocation', async () => {
		const issued = await issue(agent, { email: 'bob@example.com', ttl: '1h' });
		const { cli, port } = await forwardWith(agent, issued.token, echo.port);
		const socket = await echoOnce(port);
		const status = await api(agent, 'GET', '/api/status', agent.token);
		const users = (status.json['sessions'] as { user?: string }[]).map((s) => s.user);
		assert.ok(users.includes('bob@example.com'), JSON.stringify(status.json));
		await waitFor(() => agent.stderr.find((l) => /user=bob@example\.com/.test(l)), 'a log line with user=');

		const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
		socket.on('error', () => undefined);
		const revokedAt = Date.now();
		const revoke = await api(agent, 'DELETE', `/api/tokens/${issued.id}`, agent.token);
		assert.equal(revoke.status, 200);
		assert.ok(revoke.json['revoked_at']);
		const cutAfter = (await closed) - revokedAt;
		assert.ok(cutAfter < 1_000, `the stream ended ${cutAfter} ms after the revocation`);
		const code = await cli.exited;
		assert.equal(code, 3, cli.stderr.join('\n'));
		assert.match(cli.stderr.join('\n'), /revoked/);
		assert.ok(!agent.stderr.join('\n').includes(issued.token), 'the token is never logged');
	});

	it('refuses an expired token, and cuts a live one at its expiry', async () => {
		// Long enough for the forward to start on a loaded machine; the cut is timed from the expiry.
		const issued = await issue(agent, { email: 'carol@example.com', ttl: '10s' });
		const { cli, port } = await forwardWith(agent, issued.token, echo.port);
		const socket = await echoOnce(port);
		socket.on('error', () => undefined);
		await new Promise<void>((resolve) => socket.once('close', () => resolve()));
		const code = await cli.exited;
		assert.equal(code, 3);
		assert.match(cli.stderr.join('\n'), /expired/);
		const file = join(tempDir(), 'token');
		writeFileSync(file, issued.token + '\n');
		const again = await runCli(['forward', '-u', agent.url, '--token-file', file, '-L', '0:127.0.0.1:1']);
		assert.equal(again.code, 3);
		assert.match(again.stderr, /expired/);
	});

	it('refuses forged tokens, logging only the reason', async () => {
		const wrongKey = new TextEncoder().encode('x'.repeat(48));
		const forged = await new SignJWT({ email: 'mallory@example.com', role: 'client' })
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setJti('00000000-0000-4000-8000-000000000000')
			.setSubject('mallory')
			.setIssuedAt()
			.setExpirationTime('1h')
			.sign(wrongKey);
		const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
		const claims = Buffer.from(JSON.stringify({ sub: 'x', exp: 9e9 })).toString('base64url');
		for (const [token, why] of [
			[forged, 'bad-signature'],
			[`${header}.${claims}.`, 'malformed'],
		] as const) {
			const file = join(tempDir(), 'token');
			writeFileSync(file, token + '\n');
			const result = await runCli(['forward', '-u', agent.url, '--token-file', file, '-L', '0:127.0.0.1:1']);
			assert.equal(result.code, 3, result.stderr);
			await agent.waitForLog(new RegExp(`user token refused.*why=${why}`));
			assert.ok(!agent.stderr.join('\n').includes(token), 'the forged token is not logged');
		}
	});

	it('lets a user token manage its own tokens only', async () => {
		const dave = await issue(agent, { email: 'dave@example.com', ttl: '1h' });
		const erin = await issue(agent, { email: 'erin@example.com', ttl: '1h' });
		const own = await api(agent, 'GET', '/api/tokens', dave.token);
		assert.equal(own.status, 200);
		const emails = new Set((own.json['tokens'] as { email: string }[]).map((t) => t.email));
		assert.deepEqual([...emails], ['dave@example.com']);
		assert.equal((await api(agent, 'DELETE', `/api/tokens/${erin.id}`, dave.token)).status, 404);
		const forOther = await api(agent, 'POST', '/api/tokens', dave.token, { email: 'erin@example.com' });
		assert.equal(forOther.status, 403);
		assert.equal(forOther.json['code'], 'forbidden');
	});
});

describe('accounts: the token CLI, logins and durability', () => {
	it('creates, lists and revokes through the agent, logs in from an init URL and works from a subdirectory', async (t) => {
		const dataDir = tempDir();
		const agent = await startAgent({ args: ['--accounts', '--db', join(dataDir, 'tokens.db')] });
		const echo = await startEchoServer();
		t.after(async () => {
			await agent.stop();
			await echo.close();
		});
		const ownerToken = join(tempDir(), 'owner');
		writeFileSync(ownerToken, agent.token + '\n', { mode: 0o600 });
		const owner = ['-u', agent.url, '--token-file', ownerToken];
		const created = await runCli([
			'token',
			'create',
			...owner,
			'--email',
			'frank@example.com',
			'--ttl',
			'1h',
			'--json',
		]);
		assert.equal(created.code, 0, created.stderr);
		const row = JSON.parse(created.stdout) as { id: string; token: string; init_url: string };
		const page = await new Promise<string>((resolve, reject) => {
			request(row.init_url, (res) => {
				let text = '';
				res.on('data', (c: Buffer) => (text += c.toString()));
				res.on('end', () => resolve(text));
			})
				.on('error', reject)
				.end();
		});
		assert.match(page, /berth login --init/);
		assert.ok(
			!agent.stderr.join('\n').includes(row.init_url.split('/p/')[1]!),
			'the init URL path is never logged',
		);

		const home = tempDir();
		const project = join(home, 'proj');
		const env = { BERTH_CONFIG_DIR: join(home, 'config') };
		const { mkdirSync } = await import('node:fs');
		mkdirSync(join(project, 'src'), { recursive: true });
		const login = await runCli(['login', '--init', '-'], { stdin: row.init_url + '\n', env, cwd: project });
		assert.equal(login.code, 0, login.stderr);
		assert.match(login.stdout, /✓ Configuration saved for frank@example\.com/);
		const cli = spawnCli(['forward', '-L', `0:127.0.0.1:${echo.port}`], { env, cwd: join(project, 'src') });
		t.after(() => cli.stop());
		const match = await cli.waitForStdout(/^Forwarding \S+:(\d+) ->/, 15_000);
		(await echoOnce(Number(match[1]))).destroy();
		await cli.waitForStderr(/using the login saved for .*proj \(frank@example\.com\)/);

		const list = await runCli(['token', 'list', ...owner]);
		assert.equal(list.code, 0, list.stderr);
		assert.match(list.stdout, /^ID +EMAIL +NAME +ROLE +CREATED +LAST USED +EXPIRES +REVOKED$/m);
		assert.match(list.stdout, new RegExp(`^${row.id} +frank@example\\.com`, 'm'));
		const revoked = await runCli(['token', 'revoke', row.id, ...owner]);
		assert.equal(revoked.code, 0, revoked.stderr);
		assert.equal(await cli.exited, 3, 'the logged-in forward was cut, for good');
		const unknown = await runCli(['token', 'revoke', 'no-such-id', ...owner]);
		assert.equal(unknown.code, 2);
		assert.match(unknown.stderr, /no token with id no-such-id/);
	});

	it('refuses an agent whose key is not the one the init URL pinned', async (t) => {
		const agent = await startAgent({ args: ['--accounts', '--db', join(tempDir(), 'tokens.db')] });
		t.after(() => agent.stop());
		const issued = await issue(agent, { email: 'gina@example.com', ttl: '1h' });
		const payload = JSON.parse(Buffer.from(issued.init_url.split('/p/')[1]!, 'base64url').toString());
		payload.k = `SHA256:${'A'.repeat(43)}`;
		const forged = `${issued.init_url.split('/p/')[0]}/p/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
		const env = { BERTH_CONFIG_DIR: join(tempDir(), 'config') };
		const login = await runCli(['login', '--init', '-'], { stdin: forged + '\n', env, cwd: tempDir() });
		assert.equal(login.code, 3, login.stderr);
		assert.match(login.stderr, /not the one your login pinned/);
	});

	it('keeps a token reported created across kill -9, and offline --db sees it once the agent is gone', async () => {
		const dataDir = tempDir();
		const db = join(dataDir, 'tokens.db');
		const agent = await startAgent({ args: ['--accounts', '--db', db] });
		const issued = await issue(agent, { email: 'hank@example.com', ttl: '1h' });
		await agent.stop('SIGKILL');
		const env = { BERTH_CONFIG_DIR: agent.configDir };
		const list = await runCli(['token', 'list', '--db', db, '--json'], { env });
		assert.equal(list.code, 0, list.stderr);
		const rows = JSON.parse(list.stdout) as { id: string; email: string }[];
		assert.deepEqual(
			rows.map((r) => [r.id, r.email]),
			[[issued.id, 'hank@example.com']],
		);
		const offline = await runCli(
			[
				'token',
				'create',
				'--db',
				db,
				'--email',
				'ivy@example.com',
				'--public-url',
				'https://agent.example:8765',
			],
			{ env },
		);
		assert.equal(offline.code, 0, offline.stderr);
		assert.match(offline.stdout, /^https:\/\/agent\.example:8765\/p\/[\w-]+$/m);
	});
});

describe('dev mode', () => {
	it('lets a --dev client in as testing@testing.local on a loopback agent', async (t) => {
		const agent = await startAgent({ args: ['--dev-mode'] });
		const echo = await startEchoServer();
		t.after(async () => {
			await agent.stop();
			await echo.close();
		});
		await agent.waitForLog(/DEV MODE/); // the warning banner: on stderr, it may follow the listening line
		const cli = spawnCli(['forward', '-u', agent.url, '--dev', '-L', `0:127.0.0.1:${echo.port}`]);
		t.after(() => cli.stop());
		const match = await cli.waitForStdout(/^Forwarding \S+:(\d+) ->/, 15_000);
		(await echoOnce(Number(match[1]))).destroy();
		await agent.waitForLog(/user=testing@testing\.local/);
	});

	it('refuses to start on a non-loopback host, saying why', async () => {
		const result = await runCli(['server', '--dev-mode', '--host', '0.0.0.0', '--port', '0']);
		assert.equal(result.code, 2);
		assert.match(result.stderr, /--dev-mode .* must be loopback: --host 0\.0\.0\.0/);
	});
});
