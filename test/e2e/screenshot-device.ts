/**
 * Writes docs/device-approve.png, the README's picture of the device flow's "Allow this device?"
 * page: alice signed in through OpenID Connect (the test provider), a device that asked as
 * "alice-laptop". A script run by hand when the page changes, not a test:
 *
 *   node esbuild.mjs && node --import tsx test/e2e/screenshot-device.ts
 *
 * It runs a throwaway provider and agent, and Debian's Chromium.
 */

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_OIDC_USERS } from '../helpers/oidc-provider';
import { WebClient } from '../helpers/web-client';
import { signInAtProvider, startOidcAgent } from './oidc-agent';
import { launchChromium, ROOT } from './workbench';

const OUTPUT = join(ROOT, 'docs', 'device-approve.png');
const VIEWPORT = { width: 720, height: 500 } as const;
/** The README shows the image scaled down: more than this is a heavy page for no gain. */
const MAX_BYTES = 200 * 1024;

async function main(): Promise<void> {
	const setup = await startOidcAgent();
	const browser = await launchChromium();
	try {
		const device = new WebClient(setup.origin);
		const asked = await device.post(
			'/auth/device/code',
			{ session_name: 'alice-laptop' },
			{ json: true, origin: null },
		);
		const code = JSON.parse(asked.text) as { verification_uri_complete: string };
		const context = await browser.newContext({
			viewport: VIEWPORT,
			colorScheme: 'light',
			deviceScaleFactor: 1,
		});
		const page = await context.newPage();
		await page.goto(code.verification_uri_complete);
		await signInAtProvider(page, setup, TEST_OIDC_USERS.alice.email);
		await page.locator('h1', { hasText: 'Allow this device?' }).waitFor();
		await page.screenshot({ path: OUTPUT, fullPage: true });
		const bytes = statSync(OUTPUT).size;
		console.log(`wrote ${OUTPUT} (${Math.round(bytes / 1024)} KiB)`);
		if (bytes > MAX_BYTES) {
			throw new Error(`the picture is ${bytes} bytes, more than ${MAX_BYTES}`);
		}
	} finally {
		await browser.close();
		await setup.stop();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
