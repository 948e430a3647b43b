import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAgent, tempDir, type AgentProcess } from '../helpers/agent-process';
import { TestOidcProvider } from '../helpers/oidc-provider';

/**
 * An agent whose users sign in through OpenID Connect, for the tests and pictures that drive its
 * pages in Chromium: a real provider (test/helpers/oidc-provider.ts, users alice, bob, carol and
 * dave) on a free loopback port, and the real dist/server.js with --accounts and --oidc-issuer,
 * letting in `*@example.com`.
 */
export interface OidcAgent {
	readonly provider: TestOidcProvider;
	readonly agent: AgentProcess;
	/** How the browser reaches the agent: `http://127.0.0.1:PORT`. */
	readonly origin: string;
	stop(): Promise<void>;
}

/** Starts the provider, then the agent (discovery needs the provider), then registers the agent's redirect URI. */
export async function startOidcAgent(
	options: { env?: Readonly<Record<string, string>> } = {},
): Promise<OidcAgent> {
	const provider = await TestOidcProvider.start();
	try {
		const dir = tempDir('berth-sign-in-');
		const secretFile = join(dir, 'oidc-client-secret');
		writeFileSync(secretFile, provider.clientSecret + '\n', { mode: 0o600 });
		const agent = await startAgent({
			args: [
				'--accounts',
				'--db',
				join(dir, 'tokens.db'),
				'--oidc-issuer',
				provider.issuer,
				'--oidc-client-id',
				provider.clientId,
				'--oidc-client-secret-file',
				secretFile,
				'--allow-email',
				'*@example.com',
			],
			...(options.env ? { env: options.env } : {}),
		});
		const origin = `http://127.0.0.1:${agent.port}`;
		provider.allowRedirectUri(`${origin}/auth/callback`);
		return {
			provider,
			agent,
			origin,
			stop: async () => {
				await agent.stop();
				await provider.stop();
			},
		};
	} catch (error) {
		await provider.stop();
		throw error;
	}
}

/**
 * On the provider's login page (where the agent sent the browser), signs in as `email` with the
 * page's own form, as a person would; resolves once the browser has left the provider.
 */
export async function signInAtProvider(page: Page, setup: OidcAgent, email: string): Promise<void> {
	const issuer = new URL(setup.provider.issuer).origin;
	await page.waitForURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
	await page.locator('#email').fill(email);
	await Promise.all([
		page.waitForURL((url) => url.origin !== issuer),
		page.getByRole('button', { name: 'Sign in' }).click(),
	]);
}
