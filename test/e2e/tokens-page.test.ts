import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { launchChromium } from './workbench';

/**
 * The agent's token page in real Chromium: the strict CSP holds (no violation reported), the owner
 * signs in and creates a token with the keyboard only, and the page's script makes the Copy
 * buttons work. The agent is the real dist/server.js with --accounts.
 */

/** How long a page may take to answer on two busy cores. */
const PAGE_TIMEOUT_MS = 15_000;
/** Tab presses allowed to reach a control: the page has far fewer stops before the create button. */
const MAX_TABS = 25;

/** Presses Tab until `isTarget` holds for the focused element; fails past MAX_TABS. */
async function tabTo(page: Page, isTarget: string, what: string): Promise<number> {
	for (let presses = 1; presses <= MAX_TABS; presses++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate(isTarget)) {
			return presses;
		}
	}
	throw new Error(`${what} was not reached with ${MAX_TABS} Tab presses`);
}

describe('the token page in Chromium', () => {
	let agent: AgentProcess;
	let browser: Browser;

	before(async () => {
		agent = await startAgent({ args: ['--accounts', '--db', join(tempDir(), 'tokens.db')] });
		browser = await launchChromium();
	});
	after(async () => {
		await browser?.close();
		await agent?.stop();
	});

	it('signs the owner in and creates a token from the keyboard, under the CSP, with working Copy buttons', async () => {
		const origin = `http://127.0.0.1:${agent.port}`;
		const context = await browser.newContext();
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
		const page = await context.newPage();
		page.setDefaultTimeout(PAGE_TIMEOUT_MS);
		const problems: string[] = [];
		page.on('console', (message) => {
			if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
				problems.push(message.text());
			}
		});
		page.on('pageerror', (error) => problems.push(error.message));

		await page.goto(`${origin}/tokens`);
		assert.equal(new URL(page.url()).pathname, '/auth/login', 'signed out: the sign-in page');
		assert.equal(await page.evaluate('document.activeElement.id'), 'token', 'the token field has the focus');
		await page.keyboard.type(agent.token!);
		await Promise.all([page.waitForURL(`${origin}/tokens`), page.keyboard.press('Enter')]);
		assert.match((await page.locator('.who').textContent()) ?? '', /Signed in as owner@.+\(agent owner\)/);

		await tabTo(page, "document.activeElement.id === 'name'", 'the Name field');
		await page.keyboard.type('laptop');
		const presses = await tabTo(
			page,
			"document.activeElement.textContent === 'Create token'",
			'the Create token button',
		);
		assert.ok(presses <= 5, `the create button is ${presses} Tab presses after the name`);
		await Promise.all([page.waitForSelector('#created-title'), page.keyboard.press('Enter')]);

		assert.match((await page.locator('#created-title').textContent()) ?? '', /Token created “laptop”/);
		assert.equal(
			await page.evaluate('document.activeElement.id'),
			'login-command',
			'the command has the focus',
		);
		const command = await page.locator('#login-command').inputValue();
		assert.match(command, new RegExp(`^berth login --init '${origin}/p/[\\w-]+'$`));
		const copyButtons = page.locator('button[data-copy]');
		assert.equal(await copyButtons.count(), 3);
		for (const button of await copyButtons.all()) {
			assert.ok(await button.isVisible(), 'the script showed the Copy button');
		}
		await page.locator('button[data-copy="login-command"]').click();
		await page.locator('button[data-copy="login-command"]', { hasText: 'Copied' }).waitFor();
		assert.equal(await page.evaluate('navigator.clipboard.readText()'), command);
		assert.equal(await page.locator('tr.active', { hasText: 'laptop' }).count(), 1, 'listed');
		assert.deepEqual(problems, [], 'no CSP violation, no script error');
		await context.close();
	});
});
