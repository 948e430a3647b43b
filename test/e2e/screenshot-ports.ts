/**
 * Writes docs/panel-vs-ports-view.png, the README's comparison of VS Code's own Ports view with
 * Berth's Remote Port Forwarding panel, forwarding the same port in the same real workbench.
 * A script run by hand when the panel changes, not a test (it asserts nothing, and npm test
 * need not pay for one more workbench):
 *
 *   node esbuild.mjs && npm run package && node --import tsx test/e2e/screenshot-ports.ts
 *
 * It needs what the e2e tests need (the VS Code server in .peer/, Debian's Chromium). The port is
 * forwarded in both views first; then the bottom panel is captured with each view shown in turn
 * (the same size, so the same scale), and a small page in the same Chromium lays the two out side
 * by side with a caption each. The last screen and the server's log are left in test-results/.
 */

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import {
	ROOT,
	UI_TIMEOUT_MS,
	answerInput,
	forwardRow,
	openFreshWorkbench,
	runCommand,
	serveText,
	statusItem,
} from './workbench';

const OUTPUT = join(ROOT, 'docs', 'panel-vs-ports-view.png');

/** Wide enough for every column of Berth's panel (webview/ports.css drops some below 1150 px). */
const VIEWPORT = { width: 1240, height: 720 } as const;

/** Tall enough for the panel's tabs, the table's head and a few rows: below is empty. */
const PICTURE_HEIGHT = 150;

/** The README shows the image scaled down: more than this is a heavy page for no gain. */
const MAX_BYTES = 300 * 1024;

const SETTINGS = {
	'security.workspace.trust.enabled': false,
	// Here the extension host runs on the server, so VS Code's own port detection would list
	// Berth's listeners (tunnel access, the forward's local port) as Auto Forwarded, some of them
	// depending on timing: off, both views show the one port forwarded by hand.
	'remote.autoForwardPorts': false,
} as const;

const CAPTIONS = {
	ports: "VS Code's Ports view",
	berth: "Berth's Remote Port Forwarding panel",
} as const;

async function main(): Promise<void> {
	const web = await serveText('hello from the port both views forward');
	const wb = await openFreshWorkbench('screenshot-ports', { user: SETTINGS });
	try {
		const { page } = wb;
		await page.setViewportSize(VIEWPORT);
		await runCommand(page, 'View: Close Primary Side Bar');
		await forwardInPortsView(page, web.port);
		await forwardInBerthPanel(page, web.port);
		// Both pictures at the same moment, once both forwards are in.
		await runCommand(page, 'Ports: Focus on Ports View');
		const ports = await panelPicture(page, portsViewRow(page, web.port));
		await runCommand(page, 'Berth: Show Remote Port Forwarding');
		const berth = await panelPicture(page, forwardRow(page, 'local', web.port));
		await compose(wb.browser, ports, berth);
		console.log(`${OUTPUT}: ${(statSync(OUTPUT).size / 1024).toFixed(0)} KiB`);
	} finally {
		await wb.close();
		await web.close();
	}
}

/** Forwards `port` from VS Code's Ports view, by its own "Forward a Port" button and input. */
async function forwardInPortsView(page: Page, port: number): Promise<void> {
	await runCommand(page, 'Ports: Focus on Ports View');
	const view = page.locator('.part.panel');
	await view.getByRole('button', { name: 'Forward a Port' }).first().click();
	// The view's own input, in its table's first row.
	const input = view.locator('.ports-view-actionbar-cell input, .monaco-inputbox input').first();
	await input.waitFor({ timeout: UI_TIMEOUT_MS });
	await input.fill(String(port));
	await input.press('Enter');
	await portsViewRow(page, port).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** The Ports view's row of `port`, or VS Code's own word on why it could not forward it. */
function portsViewRow(page: Page, port: number): Locator {
	return page.locator('.part.panel .monaco-list-row, .notification-toast', { hasText: String(port) }).first();
}

/** Forwards `port` through this machine's agent: tunnel access on, then Berth: Forward a Port.... */
async function forwardInBerthPanel(page: Page, port: number): Promise<void> {
	await runCommand(page, 'Berth: Turn On Tunnel Access');
	await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
	await runCommand(page, 'Berth: Forward a Port...');
	await answerInput(page, 'Forward a Port', String(port));
	await forwardRow(page, 'local', port).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** The bottom panel's top (tabs, table head, first rows) once `shown` is, at rest: no hover, no focus. */
async function panelPicture(page: Page, shown: Locator): Promise<Buffer> {
	await shown.waitFor({ timeout: UI_TIMEOUT_MS });
	// The focus in the editor area: a view shows its rows as they are, not the focused one's actions.
	await page.locator('.part.editor').click({ position: { x: 200, y: 100 } });
	await page.mouse.move(0, 0);
	const box = await page.locator('.part.panel').boundingBox();
	if (box === null) {
		throw new Error('the bottom panel is not shown');
	}
	return page.screenshot({ clip: { ...box, height: Math.min(box.height, PICTURE_HEIGHT) } });
}

/** Lays the two pictures out side by side, captioned, and writes OUTPUT. */
async function compose(browser: Browser, ports: Buffer, berth: Buffer): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'berth-shot-'));
	try {
		writeFileSync(join(dir, 'ports.png'), ports);
		writeFileSync(join(dir, 'berth.png'), berth);
		writeFileSync(join(dir, 'index.html'), layout());
		const page = await browser.newPage({ viewport: { width: 100, height: 100 } });
		await page.goto(`file://${join(dir, 'index.html')}`);
		await page.locator('main img').last().waitFor();
		await page.waitForFunction(() => [...document.images].every((img) => img.complete));
		await page.locator('main').screenshot({ path: OUTPUT });
		await page.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const size = statSync(OUTPUT).size;
	if (size > MAX_BYTES) {
		throw new Error(`${OUTPUT} is ${size} bytes, more than ${MAX_BYTES}`);
	}
}

function layout(): string {
	const figure = (src: string, caption: string) =>
		`<figure><figcaption>${caption}</figcaption><img src="${src}"></figure>`;
	return `<!doctype html><meta charset="utf-8"><style>
		body { margin: 0; background: #fff; font: 600 22px system-ui, sans-serif; color: #1f1f1f; }
		main { display: inline-flex; gap: 24px; padding: 16px; background: #fff; }
		figure { margin: 0; }
		figcaption { margin: 0 0 10px; }
		img { display: block; border: 1px solid #c8c8c8; }
	</style><main>${figure('ports.png', CAPTIONS.ports)}${figure('berth.png', CAPTIONS.berth)}</main>`;
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
