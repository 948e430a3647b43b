/**
 * Issue 10's "In VS Code" in the real workbench, against a real agent with `--accounts`: the owner
 * issues a user token through the agent's API; Connect with Init URL... takes its init URL (and
 * names the wrong part of a bad one), the panel and the status tooltip name the signed-in user, a
 * forward carries traffic; the owner revokes the token, and within seconds the panel says
 * "Token revoked: sign in again" with a notification offering Connect with Init URL..., while the
 * agent sees no further attempts (no retry loop); Sign Out forgets the token and the agent.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { waitFor } from '../helpers/wait';
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
	statusItem,
} from './workbench';

const GREETING = 'hello through a user token';
const EMAIL = 'alice@example.com';
/** How long after the revocation the panel must say so: the agent cuts within 1 s. */
const REVOKED_SHOWN_WITHIN_MS = 5_000;
/**
 * How long the agent is watched for further attempts once the token was refused: a retry loop on
 * the client library's schedule (0, 5, 5, 10 … s) would try again within it.
 */
const NO_RETRY_WINDOW_MS = 8_000;
/** Refusals that follow the cut itself (the stream session's first renewal), seen this soon. */
const CUT_REFUSALS_WITHIN_MS = 3_000;

/** Calls the agent's HTTP API with the owner's connection token; the JSON answer and the status. */
function api(
	agent: AgentProcess,
	method: string,
	path: string,
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
					authorization: `Bearer ${agent.token}`,
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

/** Connect with Init URL...: a wrong URL first (its message names the part), then the real one. */
async function connectWithInitUrl(page: Page, initUrl: string): Promise<void> {
	await runCommand(page, 'Berth: Connect with Init URL...');
	// Its prompt, not its title: the palette's entry has the title's words too. A validation message
	// then takes the prompt's place, so the widget is found once by it.
	await page
		.locator('.quick-input-widget', { hasText: "The init URL from the agent's owner" })
		.waitFor({ timeout: UI_TIMEOUT_MS });
	const widget = page.locator('.quick-input-widget');
	const input = widget.locator('input.input');
	assert.equal(await input.getAttribute('type'), 'password', 'the init URL holds the token: no echo');
	await input.fill(initUrl.replace('/p/', '/x/'));
	await widget
		.locator('.quick-input-message', { hasText: "The init URL's path is not /p/" })
		.waitFor({ timeout: UI_TIMEOUT_MS });
	await input.fill(initUrl);
	await input.press('Enter');
	await widget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
}

/** The times at which the agent logged a refused user token, as this test saw them arrive. */
function watchRefusals(agent: AgentProcess): { readonly times: number[]; stop(): void } {
	const times: number[] = [];
	let seen = 0;
	const timer = setInterval(() => {
		const lines = agent.stderr.filter((line) => /user token refused.*why=revoked/.test(line)).length;
		for (; seen < lines; seen++) {
			times.push(Date.now());
		}
	}, 50);
	return { times, stop: () => clearInterval(timer) };
}

describe('issue 10 in VS Code: user tokens (real VS Code web workbench)', { timeout: 10 * 60_000 }, () => {
	it('connects with an init URL, shows the user, forwards, shows a revocation without retrying, and signs out', async () => {
		const agent = await startAgent({ args: ['--accounts', '--db', join(tempDir(), 'tokens.db')] });
		const web = await serveText(GREETING);
		const wb = await openFreshWorkbench('accounts', { user: { 'security.workspace.trust.enabled': false } });
		const { page, screenshot } = wb;
		try {
			const issued = await api(agent, 'POST', '/api/tokens', { email: EMAIL, ttl: '1h', prefix: 'alice-' });
			assert.equal(issued.status, 201, JSON.stringify(issued.json));
			const { id, init_url: initUrl } = issued.json as { id: string; init_url: string };
			const agentId = `ws://127.0.0.1:${agent.port}`;

			await connectWithInitUrl(page, initUrl);
			const agentsItem = statusItem(page, /Berth: 1 agent\b/);
			await agentsItem.waitFor({ timeout: UI_TIMEOUT_MS });
			await runCommand(page, 'Berth: Show Remote Port Forwarding');
			const connected = portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: agentId });
			await connected.waitFor({ timeout: UI_TIMEOUT_MS });
			assert.equal(await connected.locator('.agent-user').textContent(), EMAIL);
			await agentsItem.hover();
			await page
				.locator('.monaco-hover, .workbench-hover', { hasText: `signed in as ${EMAIL}` })
				.first()
				.waitFor({ timeout: UI_TIMEOUT_MS });
			await page.keyboard.press('Escape');
			await screenshot('signed-in');

			// A forward through the user's session; the agent knows the session as Alice's.
			await runCommand(page, 'Berth: Forward a Port...');
			await answerInput(page, 'Forward a Port', String(web.port));
			const row = forwardRow(page, agentId, web.port);
			await row.waitFor({ timeout: UI_TIMEOUT_MS });
			assert.equal(await (await fetch(`http://${await localAddressOf(row)}/`)).text(), GREETING);
			const status = await api(agent, 'GET', '/api/status');
			const sessions = status.json['sessions'] as { kind?: string; user?: string; session_name?: string }[];
			// One session per window: the stream session carries the forward and the panel's RPC both.
			assert.deepEqual(
				sessions.filter((s) => s.user === EMAIL).map((s) => [s.kind, s.session_name]),
				[['streams', `alice-${hostname()}`]],
				JSON.stringify(sessions),
			);

			// The owner revokes the token: the panel says so within seconds, and nothing retries.
			const refusals = watchRefusals(agent);
			try {
				const revokedAt = Date.now();
				assert.equal((await api(agent, 'DELETE', `/api/tokens/${id}`)).status, 200);
				const revoked = portsPanel(page).locator('tr.agent[data-status="failed"]', { hasText: agentId });
				await revoked
					.locator('.agent-detail', { hasText: 'Token revoked: sign in again' })
					.waitFor({ timeout: REVOKED_SHOWN_WITHIN_MS });
				assert.equal(await revoked.locator('.agent-user').textContent(), EMAIL);
				assert.ok(
					await revoked.getByRole('button', { name: /^Sign in to .* again$/ }).isVisible(),
					'Sign In',
				);
				assert.ok(await revoked.getByRole('button', { name: /^Reconnect to / }).isHidden(), 'no Reconnect');
				await notification(page, new RegExp(`Your token for ${agentId} \\(${EMAIL}\\) was revoked`))
					.getByRole('button', { name: 'Connect with Init URL...' })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await statusItem(page, /Berth: sign in again/).waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('revoked');
				await waitFor(
					() => refusals.times.length > 0,
					'the agent to refuse the revoked token',
					UI_TIMEOUT_MS,
				);
				// A bounded window: a retry loop would try again within it (the schedule's next try is at 5 s).
				await waitFor(
					() => {
						const late = refusals.times.filter((t) => t - revokedAt > CUT_REFUSALS_WITHIN_MS);
						assert.deepEqual(late, [], `attempts after the refusal: ${refusals.times.length}`);
						return Date.now() - revokedAt >= NO_RETRY_WINDOW_MS;
					},
					'the window without retries to pass',
					NO_RETRY_WINDOW_MS + 5_000,
					100,
				);
			} finally {
				refusals.stop();
			}

			// Sign Out: the agent and its token are gone (Connect to Agent no longer offers a saved token).
			await runCommand(page, 'Berth: Sign Out...');
			await notification(page, new RegExp(`Signed out of ${agentId} \\(${EMAIL}\\)`)).waitFor({
				timeout: UI_TIMEOUT_MS,
			});
			await portsPanel(page)
				.locator('tr.agent', { hasText: agentId })
				.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
			await runCommand(page, 'Berth: Connect to Agent...');
			await answerInput(page, 'Connect to Agent (1/3)', `127.0.0.1:${agent.port}`);
			await pickItem(page, 'Berth agent');
			const tokenStep = page.locator('.quick-input-widget', { hasText: 'Connect to Agent (3/3)' });
			await tokenStep.waitFor({ timeout: UI_TIMEOUT_MS });
			assert.match((await tokenStep.textContent()) ?? '', /leave empty if the agent has none/);
			assert.doesNotMatch((await tokenStep.textContent()) ?? '', /use the saved one/);
			await page.keyboard.press('Escape');
			await screenshot('signed-out');
			assert.ok(!agent.stderr.join('\n').includes(initUrl.split('/p/')[1]!), 'the init URL is never logged');
		} finally {
			await wb.close();
			await web.close();
			await agent.stop();
		}
	});
});
