import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, spawnCli, startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { echoOnce, startEchoServer } from '../helpers/net';
import { createTestCa } from '../helpers/test-ca';
import { waitFor } from '../helpers/wait';
import { csrfOf, textareaOf, WebClient, type WebReply } from '../helpers/web-client';

/**
 * The agent's web pages for people, on the real dist/server.js with --accounts: the owner signs
 * in with the connection token, creates a token on /tokens and revokes it there (the forward
 * using it is cut), CSRF refusals, and the device flow end to end (code, approval page, poll).
 * Driven with node's http client and a cookie jar kept by hand (test/helpers/web-client.ts).
 */

const OWNER_EMAIL = 'root@agent.example';

interface DeviceCode {
	readonly device_code: string;
	readonly user_code: string;
	readonly verification_uri: string;
	readonly verification_uri_complete: string;
	readonly expires_in: number;
	readonly interval: number;
}

function origin(agent: AgentProcess): string {
	return `http://127.0.0.1:${agent.port}`;
}

async function signedInOwner(agent: AgentProcess): Promise<WebClient> {
	const browser = new WebClient(origin(agent));
	const reply = await browser.post('/auth/login', { token: agent.token!, return: '/tokens' });
	assert.equal(reply.status, 303, reply.text);
	return browser;
}

async function askForCode(agent: AgentProcess, sessionName: string): Promise<DeviceCode> {
	const device = new WebClient(origin(agent));
	const reply = await device.post(
		'/auth/device/code',
		{ session_name: sessionName },
		{ json: true, origin: null },
	);
	assert.equal(reply.status, 200, reply.text);
	return JSON.parse(reply.text) as DeviceCode;
}

async function poll(
	agent: AgentProcess,
	deviceCode: string,
): Promise<{ status: number; body: Record<string, string> }> {
	const device = new WebClient(origin(agent));
	const reply = await device.post(
		'/auth/device/poll',
		{ device_code: deviceCode },
		{ json: true, origin: null },
	);
	return { status: reply.status, body: JSON.parse(reply.text) as Record<string, string> };
}

/** Opens the approval page for `code` and answers it (approve or deny) with the page's CSRF token. */
async function answerDevice(browser: WebClient, code: DeviceCode, approve: boolean): Promise<WebReply> {
	const page = await browser.get(`/auth/device?code=${encodeURIComponent(code.user_code)}`);
	assert.equal(page.status, 200, page.text);
	return browser.post(approve ? '/auth/device/approve' : '/auth/device/deny', {
		csrf: csrfOf(page.text),
		user_code: code.user_code,
	});
}

describe('web pages: sign-in, /tokens and the device flow on a real agent', () => {
	let agent: AgentProcess;
	let echo: { port: number; close(): Promise<void> };

	before(async () => {
		agent = await startAgent({
			args: ['--accounts', '--db', join(tempDir(), 'tokens.db'), '--owner-email', OWNER_EMAIL],
			env: { BERTH_TEST_DEVICE_INTERVAL_S: '1' },
		});
		echo = await startEchoServer();
	});
	after(async () => {
		const secrets = [agent.token!];
		await agent.stop();
		await echo.close();
		const log = agent.stderr.join('\n');
		for (const secret of secrets) {
			assert.ok(!log.includes(secret), 'the connection token is never logged');
		}
	});

	it('announces the token page, and sends a signed-out browser to sign in', async () => {
		const line = `Token page ${origin(agent)}/tokens (the owner, ${OWNER_EMAIL}, signs in with the connection token)`;
		// The lines after the first may still be on their way when the agent is announced.
		await waitFor(() => agent.stdout.includes(line) || undefined, 'the token page line');
		const reply = await new WebClient(origin(agent)).get('/tokens');
		assert.equal(reply.status, 303);
		assert.equal(reply.headers.location, '/auth/login?return=%2Ftokens');
	});

	it('signs the owner in with the connection token only: a wrong one is 403, the right one a session cookie', async () => {
		const browser = new WebClient(origin(agent));
		const wrong = await browser.post('/auth/login', { token: 'not-the-token-0123456789', return: '/tokens' });
		assert.equal(wrong.status, 403);
		assert.match(wrong.text, /That is not this agent’s connection token/);
		assert.equal(browser.cookies.size, 0);
		const right = await browser.post('/auth/login', { token: agent.token!, return: '/tokens' });
		assert.equal(right.status, 303);
		const cookie = String(right.headers['set-cookie']);
		assert.match(cookie, /^berth-session=[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
		assert.ok(!cookie.includes(agent.token!), 'the cookie holds a session id, not the token');
		const page = await browser.get('/tokens');
		assert.equal(page.status, 200);
		assert.match(page.text, new RegExp(`Signed in as <strong>${OWNER_EMAIL}</strong> \\(agent owner\\)`));
		await agent.waitForLog(/signed in on the web pages user=root@agent\.example owner=true/);
	});

	it('creates a token shown once whose login command works, and revoking it on the page cuts the forward in < 1 s', async () => {
		const owner = await signedInOwner(agent);
		const csrf = csrfOf((await owner.get('/tokens')).text);
		const created = await owner.post('/tokens', {
			csrf,
			name: 'laptop',
			ttl: '1d',
			role: 'client',
			email: 'alice@example.com',
		});
		assert.equal(created.status, 201, created.text);
		const command = textareaOf(created.text, 'login-command')!;
		const initUrl = textareaOf(created.text, 'init-url')!;
		const jwt = textareaOf(created.text, 'token-value')!;
		assert.equal(command, `berth login --init '${initUrl}'`);
		assert.match(initUrl, new RegExp(`^${origin(agent)}/p/[\\w-]+$`));
		assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
		assert.equal(created.headers['cache-control'], 'no-store');
		const list = await owner.get('/tokens');
		assert.ok(!list.text.includes(jwt), 'shown once: the list never has it');
		const row = new RegExp(
			`<tr id="token-([\\w-]+)" class="active"><td>laptop</td><td>alice@example\\.com</td>`,
		).exec(list.text);
		assert.ok(row, 'the new token is listed for its user');

		// The command from the page, then a forward on that login.
		const home = tempDir();
		const project = join(home, 'proj');
		mkdirSync(project);
		const env = { BERTH_CONFIG_DIR: join(home, 'config') };
		const login = await runCli(['login', '--init', '-'], { stdin: initUrl + '\n', env, cwd: project });
		assert.equal(login.code, 0, login.stderr);
		assert.match(login.stdout, /✓ Configuration saved for alice@example\.com/);
		const cli = spawnCli(['forward', '-L', `0:127.0.0.1:${echo.port}`], { env, cwd: project });
		const match = await cli.waitForStdout(/^Forwarding \S+:(\d+) ->/, 15_000);
		const socket = await echoOnce(Number(match[1]));
		socket.on('error', () => undefined);
		const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));

		const revokedAt = Date.now();
		const revoke = await owner.post('/tokens/revoke', { csrf, id: row[1]! });
		assert.equal(revoke.status, 303);
		const cutAfter = (await closed) - revokedAt;
		assert.ok(cutAfter < 1_000, `the stream ended ${cutAfter} ms after the revocation`);
		assert.equal(await cli.exited, 3, cli.stderr.join('\n'));
		assert.match(cli.stderr.join('\n'), /revoked/);
		const after = await owner.get(revoke.headers.location!);
		assert.match(after.text, /“laptop” is revoked: its sessions have ended/);
		assert.match(after.text, new RegExp(`<tr id="token-${row[1]}" class="revoked">`));
		assert.ok(!agent.stderr.join('\n').includes(jwt), 'the token is never logged');
	});

	it('refuses a form without the CSRF token, or from another site, with 403 and changes nothing', async () => {
		const owner = await signedInOwner(agent);
		const page = await owner.get('/tokens');
		const count = (html: string) => (html.match(/<tr id="token-/g) ?? []).length;
		const before = count(page.text);
		const noCsrf = await owner.post('/tokens', { name: 'forged', ttl: '1d' });
		assert.equal(noCsrf.status, 403);
		const crossSite = await owner.post(
			'/tokens',
			{ csrf: csrfOf(page.text), name: 'forged', ttl: '1d' },
			{ origin: 'http://evil.example' },
		);
		assert.equal(crossSite.status, 403);
		const noOrigin = await owner.post(
			'/tokens',
			{ csrf: csrfOf(page.text), name: 'forged' },
			{ origin: null },
		);
		assert.equal(noOrigin.status, 403, 'neither Origin nor Referer');
		assert.equal(count((await owner.get('/tokens')).text), before);
	});

	it('runs the device flow: code, approval by the owner, the token once, then invalid', async () => {
		const code = await askForCode(agent, 'ci-runner');
		assert.match(code.user_code, /^[A-Z2-9]{3}-[A-Z2-9]{3}$/);
		assert.equal(code.verification_uri, `${origin(agent)}/auth/device`);
		assert.equal(code.verification_uri_complete, `${origin(agent)}/auth/device?code=${code.user_code}`);
		assert.equal(code.expires_in, 600);
		assert.equal(code.interval, 1, 'BERTH_TEST_DEVICE_INTERVAL_S');
		assert.deepEqual((await poll(agent, code.device_code)).body, { status: 'pending' });

		const owner = await signedInOwner(agent);
		const page = await owner.get(
			new URL(code.verification_uri_complete).pathname + `?code=${code.user_code}`,
		);
		assert.match(page.text, /Allow this device\?/);
		assert.match(page.text, /<dd>ci-runner<\/dd>/);
		const approved = await answerDevice(owner, code, true);
		assert.equal(approved.status, 200);
		assert.match(approved.text, /Device approved/);

		const complete = await waitFor(
			async () => {
				const reply = await poll(agent, code.device_code);
				return reply.body['status'] === 'complete' ? reply : undefined;
			},
			'the poll to complete',
			10_000,
			1_100,
		);
		assert.equal(complete.status, 200);
		assert.equal(complete.body['user_email'], OWNER_EMAIL);
		const fingerprint = (
			await waitFor(() => agent.stdout.find((l) => l.startsWith('Agent key ')), 'the agent key line')
		).split(' ')[2];
		assert.equal(complete.body['agent_key'], fingerprint);
		const accessToken = complete.body['access_token']!;
		// The next poll an interval later (a sooner one would be slow_down): the code is used up.
		const again = await waitFor(
			async () => {
				const reply = await poll(agent, code.device_code);
				return reply.body['status'] !== 'slow_down' ? reply : undefined;
			},
			'a poll past the interval',
			10_000,
			1_100,
		);
		assert.equal(again.status, 400);
		assert.deepEqual(again.body, { status: 'invalid' });

		// The token works (a forward) and is listed as the device's.
		const file = join(tempDir(), 'token');
		writeFileSync(file, accessToken + '\n', { mode: 0o600 });
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			file,
			'-L',
			`0:127.0.0.1:${echo.port}`,
		]);
		const match = await cli.waitForStdout(/^Forwarding \S+:(\d+) ->/, 15_000);
		(await echoOnce(Number(match[1]))).destroy();
		await cli.stop();
		const list = await owner.get('/tokens');
		assert.match(
			list.text,
			new RegExp(`<td>ci-runner</td><td>${OWNER_EMAIL.replace('.', '\\.')}</td><td class="role">client</td>`),
		);
		assert.ok(!agent.stderr.join('\n').includes(accessToken), 'the device’s token is never logged');
		assert.ok(!agent.stderr.join('\n').includes(code.device_code), 'nor the device code');
		assert.ok(!agent.stderr.join('\n').includes(code.user_code), 'nor the user code');
	});

	it('tells a denied device so, and never gives it a token', async () => {
		const code = await askForCode(agent, 'unknown-box');
		const owner = await signedInOwner(agent);
		const denied = await answerDevice(owner, code, false);
		assert.equal(denied.status, 200);
		assert.match(denied.text, /Device denied/);
		assert.deepEqual((await poll(agent, code.device_code)).body, { status: 'denied' });
		const late = await owner.post('/auth/device/approve', {
			csrf: csrfOf((await owner.get('/tokens')).text),
			user_code: code.user_code,
		});
		assert.equal(late.status, 400, 'an answered request cannot be approved after all');
	});

	it('says slow_down to a device that polls faster than the interval', async () => {
		const code = await askForCode(agent, 'eager');
		assert.deepEqual((await poll(agent, code.device_code)).body, { status: 'pending' });
		assert.deepEqual((await poll(agent, code.device_code)).body, { status: 'slow_down' });
	});

	it('answers invalid (400) to a device code it never issued', async () => {
		const reply = await poll(agent, 'A'.repeat(43));
		assert.equal(reply.status, 400);
		assert.deepEqual(reply.body, { status: 'invalid' });
	});

	it('refuses every code, the right one too, from an address past its wrong guesses', async () => {
		const code = await askForCode(agent, 'target');
		// From an address of its own (127.0.0.2), so that the other tests' addresses keep their guesses.
		const owner = new WebClient(origin(agent), '127.0.0.2');
		for (const [name, value] of (await signedInOwner(agent)).cookies) {
			owner.cookies.set(name, value);
		}
		let status = 0;
		let guesses = 0;
		while (status !== 429 && guesses < 20) {
			status = (await owner.get('/auth/device?code=ZZZ-ZZZ')).status;
			guesses++;
		}
		assert.equal(status, 429, 'wrong guesses are throttled');
		assert.equal(guesses, 11, 'after a burst of 10');
		const right = await owner.get(`/auth/device?code=${code.user_code}`);
		assert.equal(right.status, 429);
		assert.ok(Number(right.headers['retry-after']) > 0);
		await agent.waitForLog(/too many wrong device codes from one address address=127\.0\.0\.2/);
	});
});

describe('web pages: expiry and TLS', () => {
	it('expires a device code after expires_in: the poll says expired and the page no longer finds it', async (t) => {
		const agent = await startAgent({
			args: ['--accounts', '--db', join(tempDir(), 'tokens.db')],
			env: { BERTH_TEST_DEVICE_CODE_TTL_S: '1', BERTH_TEST_DEVICE_INTERVAL_S: '1' },
		});
		t.after(() => agent.stop());
		const code = await askForCode(agent, 'slowpoke');
		assert.equal(code.expires_in, 1);
		const expired = await waitFor(
			async () => ((await poll(agent, code.device_code)).body['status'] === 'expired' ? true : undefined),
			'the code to expire',
			10_000,
			1_100,
		);
		assert.ok(expired);
		const owner = await signedInOwner(agent);
		const page = await owner.get(`/auth/device?code=${code.user_code}`);
		assert.equal(page.status, 400);
		assert.match(page.text, /it has expired or been answered already/);
	});

	it('makes the session cookie Secure when the agent serves TLS', async (t) => {
		const ca = await createTestCa();
		const { certFile, keyFile } = await ca.issue('agent');
		const agent = await startAgent({
			args: [
				'--accounts',
				'--db',
				join(tempDir(), 'tokens.db'),
				'--tls-cert',
				certFile,
				'--tls-key',
				keyFile,
			],
		});
		t.after(() => agent.stop());
		const body = new URLSearchParams({ token: agent.token! }).toString();
		const reply = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
			const req = httpsRequest(
				{
					host: '127.0.0.1',
					port: agent.port,
					method: 'POST',
					path: '/auth/login',
					ca: readFileSync(ca.certFile),
					headers: {
						'content-type': 'application/x-www-form-urlencoded',
						origin: `https://127.0.0.1:${agent.port}`,
					},
				},
				(res) => {
					res.resume();
					res.on('end', () =>
						resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie']) }),
					);
				},
			);
			req.on('error', reject);
			req.end(body);
		});
		assert.equal(reply.status, 303);
		assert.match(
			reply.cookie,
			/^berth-session=[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure$/,
		);
	});
});
