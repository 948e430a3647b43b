/**
 * Issue 11's "In VS Code" in the real workbench: Berth: Sign In to Agent... runs the device flow
 * against a real agent with `--accounts` and no identity provider, so the owner approves. The
 * agent's address is typed (its http:// URL); a notification shows the one-time code, and Copy and
 * Open puts it on the clipboard and opens the agent's approval page in a new tab; the owner signs
 * in with the connection token and approves over HTTP (test/helpers/web-client.ts), and the
 * window connects as the owner's email: the panel shows it, a forward carries traffic, and the
 * login is kept in SecretStorage. Then a denial and a cancel each say so; a revocation's
 * notification signs in again through the browser; and a code that expires (a second agent whose
 * codes live 3 s) says so.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { csrfOf, WebClient } from '../helpers/web-client';
import {
	UI_TIMEOUT_MS,
	answerInput,
	forwardRow,
	localAddressOf,
	notification,
	openFreshWorkbench,
	pickItem,
	portsPanel,
	runCommand,
	serveText,
} from './workbench';

const GREETING = 'hello through a device sign-in';
const OWNER_EMAIL = 'root@agent.example';
const TITLE = 'Berth: Sign In to Agent...';
/** What a code looks like (server/http/web/user-code.ts): two groups of three from a look-alike-free alphabet. */
const USER_CODE = /your one-time code is ([A-HJ-KM-NP-Z2-9]{3}-[A-HJ-KM-NP-Z2-9]{3})\./;

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The agent's HTTP API with the owner's connection token: the JSON answer. */
function api(agent: AgentProcess, path: string, method = 'GET'): Promise<Record<string, unknown>> {
	return new Promise((resolve, reject) => {
		const req = request(
			{
				host: '127.0.0.1',
				port: agent.port,
				method,
				path,
				headers: { authorization: `Bearer ${agent.token}` },
			},
			(res) => {
				let text = '';
				res.on('data', (c: Buffer) => (text += c.toString()));
				res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
			},
		);
		req.on('error', reject);
		req.end();
	});
}

/** The owner, signed in on the agent's web pages with the connection token (no identity provider). */
async function signedInOwner(agent: AgentProcess): Promise<WebClient> {
	const browser = new WebClient(`http://127.0.0.1:${agent.port}`);
	const reply = await browser.post('/auth/login', { token: agent.token!, return: '/tokens' });
	assert.equal(reply.status, 303, reply.text);
	return browser;
}

/** The owner answers "Allow this device?" for `userCode`, as the approval page's form does (its CSRF token). */
async function answerDevice(owner: WebClient, userCode: string, approve: boolean): Promise<void> {
	const page = await owner.get(`/auth/device?code=${encodeURIComponent(userCode)}`);
	assert.equal(page.status, 200, page.text);
	assert.match(page.text, /Allow this device\?/);
	assert.match(page.text, /VS Code on /, 'the page names the session VS Code asked for');
	const reply = await owner.post(approve ? '/auth/device/approve' : '/auth/device/deny', {
		csrf: csrfOf(page.text),
		user_code: userCode,
	});
	assert.equal(reply.status, 200, reply.text);
}

/** Which agent Sign In to Agent... is given: a known one from its pick, or an address typed in (after the pick when some are known). */
type SignInTarget = { readonly known: string } | { readonly address: string; readonly afterPick: boolean };

/** Clears the notifications shown so far, so that what a step reads is its own. */
async function clearNotifications(page: Page): Promise<void> {
	await runCommand(page, 'Notifications: Clear All Notifications');
	await page.locator('.notification-toast').first().waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
}

/** Starts Sign In to Agent... (the notifications before it cleared); the code it shows. */
async function startSignIn(page: Page, target: SignInTarget): Promise<string> {
	await clearNotifications(page);
	await runCommand(page, TITLE);
	if ('known' in target) {
		await pickItem(page, target.known);
	} else {
		if (target.afterPick) {
			await pickItem(page, 'Enter an Agent Address...');
		}
		// Its prompt, not its title: the palette's entry has the title's words too.
		await answerInput(page, "The agent's address", target.address);
	}
	return shownCode(page);
}

/** The one-time code the code notification shows, once it does. */
async function shownCode(page: Page): Promise<string> {
	const codeNote = notification(page, USER_CODE);
	await codeNote.waitFor({ timeout: UI_TIMEOUT_MS });
	const userCode = USER_CODE.exec((await codeNote.textContent()) ?? '')?.[1];
	assert.ok(userCode, (await codeNote.textContent()) ?? '');
	return userCode;
}

/**
 * Clicks Copy and Open; the tab it opened. The workbench may first ask "Open external website?"
 * (VS Code's link protection): then Open is chosen.
 */
async function copyAndOpen(page: Page, userCode: string): Promise<Page> {
	const opened = page.context().waitForEvent('page', { timeout: UI_TIMEOUT_MS });
	await notification(page, new RegExp(`your one-time code is ${userCode}`))
		.getByRole('button', { name: 'Copy and Open' })
		.click();
	const dialog = page.locator('.monaco-dialog-box', { hasText: /external website/i });
	const asked = dialog.waitFor({ timeout: UI_TIMEOUT_MS }).then(
		() => true,
		() => false,
	);
	if (await Promise.race([asked, opened.then(() => false)])) {
		await dialog.getByRole('button', { name: 'Open' }).click();
	}
	const tab = await opened;
	await tab.waitForLoadState('domcontentloaded', { timeout: UI_TIMEOUT_MS });
	return tab;
}

describe(
	'issue 11 in VS Code: Sign In to Agent... (real VS Code web workbench)',
	{ timeout: 10 * 60_000 },
	() => {
		it('signs in through the device flow as the owner approves, connects, forwards, and says so on denial, cancel and expiry', async () => {
			const agent = await startAgent({
				args: ['--accounts', '--db', join(tempDir(), 'tokens.db'), '--owner-email', OWNER_EMAIL],
				env: { BERTH_TEST_DEVICE_INTERVAL_S: '1' },
			});
			const shortLived = await startAgent({
				args: ['--accounts', '--db', join(tempDir(), 'tokens.db')],
				env: { BERTH_TEST_DEVICE_INTERVAL_S: '1', BERTH_TEST_DEVICE_CODE_TTL_S: '3' },
			});
			const web = await serveText(GREETING);
			const wb = await openFreshWorkbench('device-sign-in', {
				user: { 'security.workspace.trust.enabled': false },
			});
			const { page, screenshot } = wb;
			await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: wb.server.url });
			const agentId = `ws://127.0.0.1:${agent.port}`;
			try {
				// Sign In to Agent... with the agent's URL typed in: the code, and progress while it waits.
				const userCode = await startSignIn(page, {
					address: `http://127.0.0.1:${agent.port}/`,
					afterPick: false,
				});
				await notification(page, new RegExp(`Signing in to Berth agent ${escapeRegExp(agentId)}`))
					.filter({ hasText: `approve the one-time code ${userCode} in the browser` })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('code');

				// Copy and Open: the code on the clipboard, the approval page (with the code) in a new tab.
				const tab = await copyAndOpen(page, userCode);
				// The direct page redirects to sign-in with the page as `return`; in a browser window the
				// workbench may give the tab the agent's address through its own /proxy/PORT/.
				assert.ok(
					decodeURIComponent(tab.url()).includes(`/auth/device?code=${userCode}`),
					`the tab opened ${tab.url()}`,
				);
				await tab.close();
				await page.bringToFront();
				assert.equal(await page.evaluate('navigator.clipboard.readText()'), userCode);

				// The owner approves: the window is signed in as the owner, and says so.
				const owner = await signedInOwner(agent);
				await answerDevice(owner, userCode, true);
				await notification(
					page,
					new RegExp(`Signed in as ${escapeRegExp(OWNER_EMAIL)} \\(Berth agent ${escapeRegExp(agentId)}\\)`),
				).waitFor({ timeout: UI_TIMEOUT_MS });
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				const connected = portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: agentId });
				await connected.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.equal(await connected.locator('.agent-user').textContent(), OWNER_EMAIL);
				await screenshot('signed-in');

				// The token is the device's, named after this window's host; a forward goes through it.
				const tokens = (await api(agent, '/api/tokens'))['tokens'] as { email: string; name: string }[];
				assert.ok(
					tokens.some((t) => t.email === OWNER_EMAIL && t.name.startsWith('VS Code on ')),
					JSON.stringify(tokens),
				);
				await runCommand(page, 'Berth: Forward a Port...');
				await answerInput(page, 'Forward a Port', String(web.port));
				const row = forwardRow(page, agentId, web.port);
				await row.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.equal(await (await fetch(`http://${await localAddressOf(row)}/`)).text(), GREETING);
				const sessions = (await api(agent, '/api/status'))['sessions'] as { user?: string }[];
				assert.ok(
					sessions.some((s) => s.user === OWNER_EMAIL),
					JSON.stringify(sessions),
				);

				// The login is in SecretStorage: Connect to Agent offers to use the saved token. (Not a
				// reload: this workbench, without code-server's /mint-key, keeps secrets in memory only.)
				await runCommand(page, 'Berth: Connect to Agent...');
				await answerInput(page, 'Connect to Agent (1/3)', `127.0.0.1:${agent.port}`);
				await pickItem(page, 'Berth agent');
				const tokenStep = page.locator('.quick-input-widget', { hasText: 'Connect to Agent (3/3)' });
				await tokenStep.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.match((await tokenStep.textContent()) ?? '', /leave empty to use the saved one/);
				await page.keyboard.press('Escape');
				await tokenStep.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
				const stillConnected = portsPanel(page).locator('tr.agent[data-status="connected"]', {
					hasText: agentId,
				});

				// Denied: the known agent is offered in the pick; the owner denies.
				const deniedCode = await startSignIn(page, { known: agentId });
				await answerDevice(owner, deniedCode, false);
				await notification(page, /was denied in the browser/)
					.getByRole('button', { name: 'Retry' })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('denied');

				// Cancelled from the progress notification: said so, and the connection is left as it was.
				const cancelledCode = await startSignIn(page, { known: agentId });
				await notification(page, new RegExp(`approve the one-time code ${cancelledCode}`))
					.getByRole('button', { name: 'Cancel' })
					.click();
				await notification(
					page,
					new RegExp(`Sign-in to Berth agent ${escapeRegExp(agentId)} cancelled`),
				).waitFor({
					timeout: UI_TIMEOUT_MS,
				});
				assert.ok(await stillConnected.isVisible(), 'still connected with the token it had');

				// The owner revokes the device's token: the notification offers both ways to a new one, and
				// Sign In to Agent... signs in again to that agent (no pick).
				await clearNotifications(page);
				const issued = (await api(agent, '/api/tokens'))['tokens'] as {
					id: string;
					revoked_at: string | null;
				}[];
				const live = issued.filter((t) => t.revoked_at === null);
				assert.equal(live.length, 1, JSON.stringify(issued));
				const answer = await api(agent, `/api/tokens/${live[0]!.id}`, 'DELETE');
				assert.ok(answer['revoked_at'], JSON.stringify(answer));
				const revoked = notification(
					page,
					new RegExp(
						`Your token for ${escapeRegExp(agentId)} \\(${escapeRegExp(OWNER_EMAIL)}\\) was revoked`,
					),
				);
				await revoked
					.getByRole('button', { name: 'Connect with Init URL...' })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('revoked');
				await revoked.getByRole('button', { name: 'Sign In to Agent...' }).click();
				await answerDevice(owner, await shownCode(page), true);
				await notification(page, /Signed in as /).waitFor({ timeout: UI_TIMEOUT_MS });
				await stillConnected.waitFor({ timeout: UI_TIMEOUT_MS });

				// Expired: a code nobody approves within its 3 s.
				await startSignIn(page, { address: `127.0.0.1:${shortLived.port}`, afterPick: true });
				await notification(page, /expired before it was approved\. Sign in again for a new code/).waitFor({
					timeout: UI_TIMEOUT_MS,
				});
				await screenshot('expired');
				// Its code notification outlives the sign-in (VS Code cannot close one): its button says so.
				await notification(page, USER_CODE).getByRole('button', { name: 'Copy and Open' }).click();
				await notification(page, /That one-time code is no longer waiting for approval/).waitFor({
					timeout: UI_TIMEOUT_MS,
				});

				assert.ok(!agent.stderr.join('\n').includes(agent.token!), 'the connection token is never logged');
			} finally {
				await wb.close();
				await web.close();
				await agent.stop();
				await shortLived.stop();
			}
		});
	},
);
