import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { defaultSessionName } from '../../protocol/session-name';
import { spawnCli, tempDir, type CliProcess } from '../helpers/agent-process';
import { HttpBrowser } from '../helpers/http-browser';
import { echoOnce, startEchoServer } from '../helpers/net';
import { TEST_OIDC_USERS } from '../helpers/oidc-provider';
import { within } from '../helpers/wait';
import { WebClient } from '../helpers/web-client';
import { signInAtProvider, startOidcAgent, type OidcAgent } from './oidc-agent';
import { launchChromium } from './workbench';

/**
 * Issue 11's acceptance, in real Chromium (playwright-core) against the real dist/server.js and a
 * real OpenID Connect provider (oidc-provider): `berth login --server` prints a code, the browser
 * signs in at the provider as alice, enters the code and approves; the CLI saves the login (the
 * agent key pinned), a forward with it carries bytes, and revoking its token on /tokens cuts the
 * forward in < 1 s. Then what must fail, where a browser is what shows it: denial, a cross-origin
 * form without the CSRF token, an email outside --allow-email, a forged ID token, a wrong `state`
 * (over HTTP: a browser cannot be stopped before a redirect), and a code that expires.
 *
 * Covered elsewhere, not repeated here: slow_down (the agent: test/unit/server/web/device-codes,
 * test/integration/web "says slow_down"; the client's longer interval: test/unit/server/device-login),
 * a used device code answering invalid (test/integration/web "runs the device flow"), a form
 * without the CSRF token from the agent's own origin (test/integration/web "refuses a form"), and
 * every forged ID token and state (test/unit/server/auth/oidc-sign-in, against the same provider).
 */

/** How long a page may take to answer on two busy cores. */
const PAGE_TIMEOUT_MS = 15_000;
/** The longest a CLI may take to end once the browser is done (it polls every second). */
const EXIT_TIMEOUT_MS = 15_000;
/** The requirement: a revoked token's sessions end within a second. */
const REVOKE_CUT_MS = 1_000;
/** A device code's user code, as the agent makes them (no look-alike characters). */
const USER_CODE = /[A-HJ-KM-NP-Z2-9]{3}-[A-HJ-KM-NP-Z2-9]{3}/;

/** What `berth login --server` printed in its box. */
interface ShownCode {
	readonly uri: string;
	readonly userCode: string;
}

/** A folder to log in from, with a config folder of its own. */
function loginHome(): { cwd: string; env: Record<string, string>; configFile: string } {
	const home = tempDir('berth-login-');
	const cwd = join(home, 'project');
	mkdirSync(cwd);
	return {
		cwd,
		env: { BERTH_CONFIG_DIR: join(home, 'config') },
		configFile: join(home, 'config', 'config.json'),
	};
}

/** Reads the box `berth login --server` prints on stderr: the page to visit and the code. */
async function shownCode(cli: CliProcess): Promise<ShownCode> {
	const codeLine = await cli.waitForStderr(/And enter code: /, PAGE_TIMEOUT_MS);
	const visit = cli.stderr.findIndex((line) => line.includes('To authenticate, visit:'));
	const uri = /(https?:\/\/\S+)/.exec(cli.stderr[visit + 1] ?? '')?.[1];
	const userCode = new RegExp(`And enter code: (${USER_CODE.source})`).exec(codeLine)?.[1];
	assert.ok(uri && userCode, `the box names a page and a code:\n${cli.stderr.join('\n')}`);
	return { uri, userCode };
}

/** Whether the browser holds a session on the agent (its cookie). */
async function hasAgentSession(context: BrowserContext): Promise<boolean> {
	return (await context.cookies()).some((cookie) => cookie.name === 'berth-session');
}

/** The text of the page the browser shows, on one line. */
async function pageText(page: Page): Promise<string> {
	return (await page.locator('body').innerText()).replace(/\s+/g, ' ');
}

/** The exit code of a CLI that should be ending. */
function exitOf(cli: CliProcess): Promise<number | null> {
	return within(cli.exited, EXIT_TIMEOUT_MS, 'the CLI to exit');
}

describe('sign-in in Chromium: berth login --server through OpenID Connect', () => {
	let setup: OidcAgent;
	let browser: Browser;
	let echo: { port: number; close(): Promise<void> };

	before(async () => {
		setup = await startOidcAgent({ env: { BERTH_TEST_DEVICE_INTERVAL_S: '1' } });
		echo = await startEchoServer();
		browser = await launchChromium();
	});
	after(async () => {
		await browser?.close();
		await echo?.close();
		await setup?.stop();
	});

	/** A fresh browser profile (no cookies at the agent or the provider) and its page. */
	async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
		const context = await browser.newContext();
		const page = await context.newPage();
		page.setDefaultTimeout(PAGE_TIMEOUT_MS);
		return { context, page };
	}

	it('signs alice in at the provider, approves the device, saves the login (agent key pinned), forwards, and revoking on /tokens cuts the forward in < 1 s', async () => {
		const home = loginHome();
		const sessionName = defaultSessionName('', hostname());
		const login = spawnCli(['login', '--server', setup.agent.url], { env: home.env, cwd: home.cwd });
		const { context, page } = await freshPage();
		try {
			const shown = await shownCode(login);
			assert.equal(shown.uri, `${setup.origin}/auth/device`);

			// The page the box names: signed out, so off to the provider, then back to the code form.
			await page.goto(shown.uri);
			await signInAtProvider(page, setup, TEST_OIDC_USERS.alice.email);
			assert.equal(page.url(), `${setup.origin}/auth/device`, 'back where the sign-in started');
			assert.match(await pageText(page), /Signed in as alice@example\.com/);
			await page.locator('#code').fill(shown.userCode);
			await Promise.all([
				page.waitForURL(/\/auth\/device\?code=/),
				page.getByRole('button', { name: 'Continue' }).click(),
			]);
			assert.equal(await page.locator('h1').textContent(), 'Allow this device?');
			assert.equal(await page.locator('dl.facts dd').first().textContent(), sessionName, 'names the session');
			assert.equal(await page.locator('dd.user-code').textContent(), shown.userCode);
			await Promise.all([
				page.waitForURL(`${setup.origin}/auth/device/approve`),
				page.getByRole('button', { name: 'Approve' }).click(),
			]);
			assert.equal(await page.locator('h1').textContent(), 'Device approved');

			assert.equal(await exitOf(login), 0, login.stderr.join('\n'));
			assert.ok(
				login.stdout.includes('✓ Configuration saved for alice@example.com'),
				login.stdout.join('\n'),
			);
			const saved = (
				JSON.parse(readFileSync(home.configFile, 'utf8')) as {
					sessions: Record<string, { user_email: string; backend_url: string; agent_key?: string }>;
				}
			).sessions[home.cwd];
			assert.equal(saved?.user_email, 'alice@example.com');
			assert.equal(saved?.backend_url, setup.agent.url);
			const fingerprint = setup.agent.stdout.find((l) => l.startsWith('Agent key '))?.split(' ')[2];
			assert.ok(fingerprint, 'the agent printed its key');
			assert.equal(saved?.agent_key, fingerprint, 'the device poll’s agent key is pinned');

			// The code is used up: the page no longer finds it.
			await page.goto(`${shown.uri}?code=${shown.userCode}`);
			assert.match(
				await pageText(page),
				/That code is not valid, or it has expired or been answered already/,
			);

			// A forward from that folder: no -u, no token.
			const forward = spawnCli(['forward', '-L', `0:127.0.0.1:${echo.port}`], {
				env: home.env,
				cwd: home.cwd,
			});
			try {
				const match = await forward.waitForStdout(/^Forwarding \S+:(\d+) ->/, PAGE_TIMEOUT_MS);
				const socket = await echoOnce(Number(match[1]));
				socket.on('error', () => undefined);
				const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));

				// The token page, in the same browser session, lists the device's token: revoke it there.
				await page.goto(`${setup.origin}/tokens`);
				const row = page.locator('tr.active', { hasText: sessionName });
				assert.equal(await row.count(), 1, 'the device’s token is listed, active');
				const revokedAt = Date.now();
				await Promise.all([
					page.waitForResponse(`${setup.origin}/tokens/revoke`),
					row.getByRole('button', { name: /^Revoke / }).click(),
				]);
				await page.locator('tr.revoked', { hasText: sessionName }).waitFor();
				const cutAfterMs = (await closed) - revokedAt;
				assert.ok(cutAfterMs < REVOKE_CUT_MS, `the forward's stream ended ${cutAfterMs} ms after the click`);
				assert.equal(await exitOf(forward), 3, forward.stderr.join('\n'));
				assert.match(forward.stderr.join('\n'), /revoked/);
				assert.match(await pageText(page), /is revoked: its sessions have ended/);
			} finally {
				await forward.stop();
			}
			const log = setup.agent.stderr.join('\n');
			assert.ok(!log.includes(shown.userCode), 'the user code is never logged');
			await setup.agent.waitForLog(/device approved .*user=alice@example\.com/);
		} finally {
			await context.close();
			await login.stop();
		}
	});

	it('tells berth login --server that the device was denied (exit 3), and saves nothing', async () => {
		const home = loginHome();
		const login = spawnCli(['login', '--server', setup.agent.url, '--session-name', 'not-mine'], {
			env: home.env,
			cwd: home.cwd,
		});
		const { context, page } = await freshPage();
		try {
			const shown = await shownCode(login);
			// As verification_uri_complete has it: the code in the URL, the form prefilled.
			await page.goto(`${shown.uri}?code=${shown.userCode}`);
			await signInAtProvider(page, setup, TEST_OIDC_USERS.alice.email);
			assert.equal(await page.locator('h1').textContent(), 'Allow this device?');
			assert.equal(await page.locator('dl.facts dd').first().textContent(), 'not-mine');
			await Promise.all([
				page.waitForURL(`${setup.origin}/auth/device/deny`),
				page.getByRole('button', { name: 'Deny' }).click(),
			]);
			assert.equal(await page.locator('h1').textContent(), 'Device denied');
			assert.equal(await exitOf(login), 3, login.stderr.join('\n'));
			assert.match(login.stderr.join('\n'), /^berth: the sign-in was denied in the browser$/m);
			assert.deepEqual(login.stdout, [], 'no configuration saved');
			assert.throws(() => readFileSync(home.configFile), { code: 'ENOENT' });
		} finally {
			await context.close();
			await login.stop();
		}
	});

	it('refuses a form from another origin that approves a device without the CSRF token, though the cookie is sent', async () => {
		// The attacker asks for a code (so knows it) and gets a signed-in victim to open a page of theirs.
		const device = new WebClient(setup.origin);
		const asked = await device.post(
			'/auth/device/code',
			{ session_name: 'attacker' },
			{ json: true, origin: null },
		);
		const code = JSON.parse(asked.text) as { device_code: string; user_code: string };
		const attacker = await servePage(
			`<!doctype html><form method="post" action="${setup.origin}/auth/device/approve">` +
				`<input name="user_code" value="${code.user_code}"></form>` +
				'<script>document.forms[0].submit()</script>',
		);
		const { context, page } = await freshPage();
		try {
			await page.goto(`${setup.origin}/tokens`);
			await signInAtProvider(page, setup, TEST_OIDC_USERS.alice.email);
			assert.ok(await hasAgentSession(context), 'the victim is signed in');
			const [response] = await Promise.all([
				page.waitForResponse(`${setup.origin}/auth/device/approve`),
				page.goto(attacker.url),
			]);
			await page.waitForURL(`${setup.origin}/auth/device/approve`);
			assert.equal(response.status(), 403);
			const sent = await response.request().allHeaders();
			assert.match(sent['cookie'] ?? '', /berth-session=/, 'same site: the session cookie went with it');
			assert.equal(sent['origin'], new URL(attacker.url).origin);
			assert.match(await pageText(page), /did not come from this agent’s own page/);
			const poll = await device.post(
				'/auth/device/poll',
				{ device_code: code.device_code },
				{ json: true, origin: null },
			);
			assert.deepEqual(JSON.parse(poll.text), { status: 'pending' }, 'the device is not approved');
		} finally {
			await context.close();
			await attacker.close();
		}
	});

	it('refuses bob, whose verified email --allow-email does not name: a 403 page, no session', async () => {
		const { context, page } = await freshPage();
		try {
			const callback = page.waitForResponse((r) => r.url().startsWith(`${setup.origin}/auth/callback`));
			await page.goto(`${setup.origin}/auth/device`);
			await signInAtProvider(page, setup, TEST_OIDC_USERS.bob.email);
			assert.equal((await callback).status(), 403);
			assert.match(await pageText(page), /bob@other\.test may not sign in to this agent/);
			assert.equal(await hasAgentSession(context), false);
			await setup.agent.waitForLog(/sign-in refused .*why=email-not-allowed/);
		} finally {
			await context.close();
		}
	});

	it('refuses an ID token signed by a key that is not the provider’s: no session', async () => {
		const { context, page } = await freshPage();
		setup.provider.forgeIdTokens({ key: 'other' });
		try {
			const callback = page.waitForResponse((r) => r.url().startsWith(`${setup.origin}/auth/callback`));
			await page.goto(`${setup.origin}/tokens`);
			await signInAtProvider(page, setup, TEST_OIDC_USERS.alice.email);
			assert.equal((await callback).status(), 502);
			assert.equal(await hasAgentSession(context), false);
			await setup.agent.waitForLog(/sign-in refused .*why=invalid-response/);
		} finally {
			setup.provider.forgeIdTokens(undefined);
			await context.close();
		}
	});

	it('refuses a callback with a wrong state, and the real one then signs alice in (over HTTP, to hold the redirect)', async () => {
		// A browser reduced to a cookie jar, which can stop before the provider's redirect back.
		const browser = new HttpBrowser();
		const isCallback = (url: string) => url.startsWith(`${setup.origin}/auth/callback?`);
		const loginPage = await browser.follow(`${setup.origin}/auth/login?return=%2Ftokens`, isCallback);
		assert.equal(loginPage.status, 200, `the provider's login page (${loginPage.url})`);
		const submitted = await browser.post(loginPage.url, {
			email: TEST_OIDC_USERS.alice.email,
			action: 'login',
		});
		const back = await browser.follow(submitted.location!, isCallback);
		const callback = back.location!;
		assert.ok(isCallback(callback), `the provider sends the browser back (${back.status} ${back.url})`);

		const forged = new URL(callback);
		forged.searchParams.set('state', 'x'.repeat(43));
		const refused = await browser.get(forged.href);
		assert.equal(refused.status, 400);
		assert.match(refused.body, /this sign-in is unknown, used already or expired/);
		assert.equal(browser.cookieFor(setup.origin, 'berth-session'), undefined, 'no session');
		await setup.agent.waitForLog(/sign-in refused .*why=unknown-state/);

		const signedIn = await browser.get(callback);
		assert.equal(signedIn.status, 303, signedIn.body);
		assert.equal(signedIn.location, `${setup.origin}/tokens`);
		assert.ok(browser.cookieFor(setup.origin, 'berth-session'), 'a session');
	});
});

describe('berth login --server: a code nobody approves in time', () => {
	it('says the code expired and what to run (exit 4), and saves nothing', async () => {
		const setup = await startOidcAgent({
			env: { BERTH_TEST_DEVICE_CODE_TTL_S: '2', BERTH_TEST_DEVICE_INTERVAL_S: '1' },
		});
		try {
			const home = loginHome();
			const login = spawnCli(['login', '--server', setup.agent.url], { env: home.env, cwd: home.cwd });
			const { userCode } = await shownCode(login);
			assert.equal(await exitOf(login), 4, login.stderr.join('\n'));
			assert.match(
				login.stderr.join('\n'),
				new RegExp(
					`^berth: the code ${userCode} expired before it was approved: run berth login --server again$`,
					'm',
				),
			);
			assert.throws(() => readFileSync(home.configFile), { code: 'ENOENT' });
		} finally {
			await setup.stop();
		}
	});
});

/** Another origin (another port): the attacker's page. */
async function servePage(html: string): Promise<{ url: string; close(): Promise<void> }> {
	const server: Server = createServer((_req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(html);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
