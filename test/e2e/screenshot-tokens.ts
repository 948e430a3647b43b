/**
 * Writes docs/tokens-page.png, the README's picture of the agent's token page: the owner signed
 * in, a token just created (shown once, with its login command and Copy buttons), and a list with
 * tokens of several users in each state. A script run by hand when the page changes, not a test:
 *
 *   node esbuild.mjs && node --import tsx test/e2e/screenshot-tokens.ts
 *
 * It runs a throwaway agent (its tokens are worthless once it stops) and Debian's Chromium.
 */

import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startAgent, tempDir } from '../helpers/agent-process';
import { csrfOf, WebClient } from '../helpers/web-client';
import { launchChromium, ROOT } from './workbench';

const OUTPUT = join(ROOT, 'docs', 'tokens-page.png');
const VIEWPORT = { width: 1180, height: 900 } as const;
/** The README shows the image scaled down: more than this is a heavy page for no gain. */
const MAX_BYTES = 300 * 1024;

/** Uses a token once (GET /api/tokens), so that its row has a "last used" time. */
function useToken(port: number, jwt: string): Promise<void> {
	return new Promise((resolve, reject) => {
		request(
			{ host: '127.0.0.1', port, path: '/api/tokens', headers: { authorization: `Bearer ${jwt}` } },
			(res) => {
				res.resume();
				res.on('end', () => resolve());
			},
		)
			.on('error', reject)
			.end();
	});
}

/** Tokens of several users, one used, one revoked, as a list on a running agent looks. */
async function populate(owner: WebClient, port: number): Promise<void> {
	let csrf = csrfOf((await owner.get('/tokens')).text);
	const create = async (fields: Record<string, string>): Promise<string> => {
		const page = await owner.post('/tokens', { csrf, ...fields });
		csrf = csrfOf(page.text);
		const jwt = /<textarea id="token-value"[^>]*>([^<]+)</.exec(page.text)?.[1];
		if (!jwt) {
			throw new Error(`no token created: ${page.status}`);
		}
		return jwt;
	};
	await create({ name: 'old-laptop', email: 'alice@example.com', ttl: '90d', role: 'client' });
	const revokedId = /<tr id="token-([\w-]+)"/.exec((await owner.get('/tokens')).text)![1]!;
	await owner.post('/tokens/revoke', { csrf, id: revokedId });
	await useToken(
		port,
		await create({ name: 'ci-runner', email: 'ci@example.com', ttl: '365d', role: 'client' }),
	);
	await create({ name: 'egress-box', email: 'ops@example.com', ttl: '30d', role: 'provider' });
	await useToken(
		port,
		await create({ name: 'laptop', email: 'alice@example.com', ttl: '30d', role: 'client' }),
	);
}

async function main(): Promise<void> {
	const agent = await startAgent({
		args: ['--accounts', '--db', join(tempDir(), 'tokens.db'), '--owner-email', 'owner@agent.example'],
	});
	const browser = await launchChromium();
	try {
		const origin = `http://127.0.0.1:${agent.port}`;
		const context = await browser.newContext({
			viewport: VIEWPORT,
			colorScheme: 'light',
			deviceScaleFactor: 1,
		});
		const page = await context.newPage();
		await page.goto(`${origin}/auth/login`);
		await page.fill('#token', agent.token!);
		await Promise.all([page.waitForURL(`${origin}/tokens`), page.press('#token', 'Enter')]);
		const owner = new WebClient(origin);
		for (const cookie of await context.cookies()) {
			owner.cookies.set(cookie.name, cookie.value);
		}
		await populate(owner, agent.port);
		await page.goto(`${origin}/tokens`);
		await page.fill('#name', 'workstation');
		await page.fill('#email', 'bob@example.com');
		await Promise.all([page.waitForSelector('#created-title'), page.click('button.primary')]);
		await page.locator('button[data-copy]').first().waitFor();
		await page.evaluate('document.activeElement.blur()');
		await page.screenshot({ path: OUTPUT, fullPage: true });
		const bytes = statSync(OUTPUT).size;
		console.log(`wrote ${OUTPUT} (${Math.round(bytes / 1024)} KiB)`);
		if (bytes > MAX_BYTES) {
			throw new Error(`the picture is ${bytes} bytes, more than ${MAX_BYTES}`);
		}
	} finally {
		await browser.close();
		await agent.stop();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
