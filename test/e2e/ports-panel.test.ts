import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait';
import {
	RESULTS,
	UI_TIMEOUT_MS,
	answerInput,
	closeModalEditor,
	launchChromium,
	notification,
	openWorkbench,
	pickItem,
	portsPanel,
	runCommand,
	startVsCodeServer,
	statusItem,
	type VsCodeServer,
} from './workbench';

/** What the test serves on the agent's side, to be reached through the forwarded port. */
const GREETING = 'hello through a Berth forward';

/** The panel's row of the forward of `port` through `agentId` (detected rows of the same port are others). */
function forwardRow(page: Page, agentId: string, port: number) {
	return portsPanel(page).locator(`tr.port[data-key^="${agentId}|f|"]`, { hasText: String(port) });
}

/** True while something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		socket.once('connect', () => (socket.destroy(), resolve(true)));
		socket.once('error', () => resolve(false));
	});
}

describe('Berth in a real VS Code (web workbench in Chromium)', { timeout: 10 * 60_000 }, () => {
	let server: VsCodeServer;
	let browser: Browser;
	let page: Page;
	let web: Server;
	let webPort: number;
	let agentPort: number;
	let step = 0;

	const screenshot = async (name: string): Promise<string> => {
		const path = join(RESULTS, `${String(++step).padStart(2, '0')}-${name}.png`);
		await page.screenshot({ path });
		return path;
	};

	before(async () => {
		mkdirSync(RESULTS, { recursive: true });
		web = createServer((_req, res) => res.end(GREETING));
		await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
		webPort = (web.address() as { port: number }).port;
		server = await startVsCodeServer();
		browser = await launchChromium();
		page = await openWorkbench(browser, server);
	});

	after(async () => {
		if (page) {
			await page.screenshot({ path: join(RESULTS, 'last.png') }).catch(() => undefined);
		}
		await browser?.close();
		await server?.stop();
		web?.close();
		if (server) {
			writeFileSync(join(RESULTS, 'vscode-server.log'), server.output.join('\n') + '\n');
		}
	});

	it('keeps tunnel access off in Restricted Mode and says why', async () => {
		// The server runs with Workspace Trust on and never prompts: a fresh folder opens untrusted.
		await statusItem(page, /Berth: restricted/).waitFor({ timeout: UI_TIMEOUT_MS });
		await runCommand(page, 'Berth: Turn On Tunnel Access');
		await notification(page, /Restricted Mode/).waitFor({ timeout: UI_TIMEOUT_MS });
		await screenshot('restricted');
		await notification(page, /Restricted Mode/)
			.getByRole('button', { name: 'Manage Workspace Trust' })
			.click();
		const trust = page
			.locator('.workspace-trust-editor')
			.getByRole('button', { name: /^Trust/ })
			.first();
		await trust.waitFor({ timeout: UI_TIMEOUT_MS });
		await trust.click();
		await closeModalEditor(page);
		await statusItem(page, /Berth: off/).waitFor({ timeout: UI_TIMEOUT_MS });
	});

	it('turns tunnel access on from the status bar', async () => {
		await statusItem(page, /Berth: off/).click();
		await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
		await screenshot('tunnel-on');
	});

	it('forwards a port from the command palette, shows it in the panel and carries traffic', async () => {
		await runCommand(page, 'Berth: Forward a Port...');
		await answerInput(page, 'Forward a Port', String(webPort));
		const panel = portsPanel(page);
		const agent = panel.locator('tr.agent', { hasText: 'This machine' });
		await agent.waitFor({ timeout: UI_TIMEOUT_MS });
		agentPort = Number(/ws:\/\/127\.0\.0\.1:(\d+)/.exec((await agent.textContent()) ?? '')?.[1]);
		assert.ok(agentPort > 0, 'the panel shows the agent URL');
		const row = forwardRow(page, 'local', webPort);
		await row.waitFor({ timeout: UI_TIMEOUT_MS });
		const address = (await row.locator('td.c-address').getAttribute('data-local-address')) ?? '';
		assert.match(address, /^127\.0\.0\.1:\d+$/);
		assert.match((await row.textContent()) ?? '', /User Forwarded/);

		const response = await fetch(`http://${address}/`);
		assert.equal(await response.text(), GREETING);
		// The counters are live: the connection and its bytes show up within a couple of seconds.
		await waitFor(
			async () =>
				/1 total/.test((await row.textContent()) ?? '') && !/↓ 0 B/.test((await row.textContent()) ?? ''),
			'the row to count the connection and its bytes',
			UI_TIMEOUT_MS,
			200,
		);
		await screenshot('forwarded');
	});

	it('offers the forwarding commands in the row context menu and relabels from the keyboard', async () => {
		const row = forwardRow(page, 'local', webPort);
		await row.click({ button: 'right' });
		const menu = page.locator('.context-view');
		for (const item of ['Open in Browser', 'Copy Local Address', 'Set Port Label', 'Stop Forwarding Port']) {
			await menu.locator('.action-label', { hasText: item }).waitFor({ timeout: UI_TIMEOUT_MS });
		}
		await screenshot('context-menu');
		await page.keyboard.press('Escape');
		await menu.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });

		await row.focus();
		await page.keyboard.press('F2');
		await answerInput(page, 'Set Port Label', 'Test server');
		await forwardRow(page, 'local', webPort)
			.filter({ hasText: `Test server (${webPort})` })
			.waitFor({ timeout: UI_TIMEOUT_MS });
		await runCommand(page, 'View: Toggle Maximized Panel');
		await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
		// The panel's top, where the rows are: the README's picture of it.
		const box = await page.locator('.part.panel').boundingBox();
		assert.ok(box);
		await page.screenshot({
			path: join(RESULTS, 'panel.png'),
			clip: { ...box, height: Math.min(box.height, 240) },
		});
		await runCommand(page, 'View: Toggle Maximized Panel');
	});

	it('brings tunnel access, the forward and its label back after a window reload', async () => {
		await page.reload();
		await page.locator('.statusbar').waitFor({ timeout: UI_TIMEOUT_MS });
		await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
		await runCommand(page, 'Berth: Show Remote Port Forwarding');
		const row = forwardRow(page, 'local', webPort).filter({ hasText: 'Test server' });
		await row.waitFor({ timeout: UI_TIMEOUT_MS });
		const address = (await row.locator('td.c-address').getAttribute('data-local-address')) ?? '';
		assert.equal(await (await fetch(`http://${address}/`)).text(), GREETING);
		const agent = portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: 'This machine' });
		agentPort = Number(/ws:\/\/127\.0\.0\.1:(\d+)/.exec((await agent.textContent()) ?? '')?.[1]);
		await screenshot('restored');
	});

	it('stops forwarding from the row, and the row and the local port are gone', async () => {
		const row = forwardRow(page, 'local', webPort);
		const address = (await row.locator('td.c-address').getAttribute('data-local-address')) ?? '';
		// The row's actions show on hover, as the Ports view's do.
		await row.hover();
		await row.getByRole('button', { name: /Stop Forwarding Port/ }).click();
		await row.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
		const localPort = Number(address.split(':').pop());
		await waitFor(async () => !(await isListening(localPort)), 'the local port to close', UI_TIMEOUT_MS, 100);
		await screenshot('stopped');
	});

	it('forwards through a real VS Code server as a peer (--peer vscode)', async () => {
		await runCommand(page, 'Berth: Connect to Agent...');
		await answerInput(page, 'Connect to Agent (1/3)', server.url);
		await pickItem(page, 'VS Code server');
		await answerInput(page, 'Connect to Agent (3/3)', server.token);
		const panel = portsPanel(page);
		const agentId = `ws://127.0.0.1:${server.port}`;
		await panel.locator('tr.agent', { hasText: agentId }).waitFor({ timeout: UI_TIMEOUT_MS });
		await statusItem(page, /Berth: 1 agent\b/).waitFor({ timeout: UI_TIMEOUT_MS });

		await runCommand(page, 'Berth: Forward a Port...');
		await pickItem(page, agentId);
		await answerInput(page, 'Forward a Port', `127.0.0.1:${webPort}`);
		const row = forwardRow(page, agentId, webPort);
		await row.waitFor({ timeout: UI_TIMEOUT_MS });
		const address = (await row.locator('td.c-address').getAttribute('data-local-address')) ?? '';
		const response = await fetch(`http://${address}/`);
		assert.equal(await response.text(), GREETING);
		await screenshot('vscode-peer');

		await runCommand(page, 'Berth: Disconnect from Agent...');
		await row.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
	});

	it('turns tunnel access off from the status bar, and the agent stops', async () => {
		assert.equal(await isListening(agentPort), true);
		await statusItem(page, /Berth: on/).click();
		await statusItem(page, /Berth: off/).waitFor({ timeout: UI_TIMEOUT_MS });
		assert.equal(await isListening(agentPort), false);
	});

	it('never lets the agent outlive VS Code', async () => {
		await statusItem(page, /Berth: off/).click();
		await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
		const agent = portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: 'This machine' });
		await agent.waitFor({ timeout: UI_TIMEOUT_MS });
		const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)/.exec((await agent.textContent()) ?? '')?.[1]);
		assert.equal(await isListening(port), true);
		await browser.close();
		await server.stop();
		await waitFor(
			async () => !(await isListening(port)),
			'the agent to exit with VS Code',
			UI_TIMEOUT_MS,
			200,
		);
	});
});
