/**
 * Issue 8's acceptance in the real workbench: the extension as a daily driver. Each test starts
 * its own VS Code server (fresh user data, so none depends on another's state), with Workspace
 * Trust off and tunnel access pinned to a free port (no two runs meet on 8765).
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { waitFor } from '../helpers/wait';
import {
	UI_TIMEOUT_MS,
	agentLinePort,
	answerInput,
	connectToAgent,
	forwardRow,
	isListening,
	localAddressOf,
	notification,
	openFreshWorkbench,
	pickItem,
	portsPanel,
	runCommand,
	runCommandByKeyboard,
	serveText,
	statusItem,
	type StartSettings,
	type Workbench,
} from './workbench';

const GREETING = 'hello from the page behind a Berth forward';

/** The agent's port scans run at most every 2 s: three of them with nothing new is "settled". */
const SETTLED_MS = 7_000;

/** Settings for a test's workbench: a trusted workspace (Restricted Mode has its own test). */
const SETTINGS: StartSettings = { user: { 'security.workspace.trust.enabled': false } };

/** The port tunnel access tries first by default (berth.tunnel.port). */
const DEFAULT_TUNNEL_PORT = 8765;

/** Runs `body` with a fresh workbench, always closing it (and whatever else `cleanup` holds). */
async function withWorkbench(
	name: string,
	body: (wb: Workbench, cleanup: Array<() => unknown>) => Promise<void>,
): Promise<void> {
	const cleanup: Array<() => unknown> = [];
	const wb = await openFreshWorkbench(name, SETTINGS);
	try {
		await body(wb, cleanup);
	} finally {
		await wb.close();
		for (const step of cleanup.reverse()) {
			await step();
		}
	}
}

async function turnOnTunnelAccess(page: Page): Promise<void> {
	await runCommand(page, 'Berth: Turn On Tunnel Access');
	await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** Forwards `port` through this machine's agent (tunnel access on) from the command palette. */
async function forwardLocally(page: Page, port: number): Promise<void> {
	await runCommand(page, 'Berth: Forward a Port...');
	await answerInput(page, 'Forward a Port', String(port));
	await forwardRow(page, 'local', port).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** One port row of the panel, as the test reads it. */
interface RowSeen {
	readonly key: string;
	readonly kind: string;
	/** The port the row is about (the Port column's number). */
	readonly port: number;
	/** A forward's local port (0 for a detected port). */
	readonly localPort: number;
	readonly origin: string;
}

/** The port rows of `agentId` in the panel now. */
async function rowsOf(page: Page, agentId: string): Promise<RowSeen[]> {
	return portsPanel(page)
		.locator(`tr.port[data-key^="${agentId}|"]`)
		.evaluateAll((trs) =>
			// No named helpers in here: tsx would wrap them in a __name() the page does not have.
			trs.map((tr) => {
				const port = /(\d+)\)?\s*$/.exec(tr.querySelector('td.c-port')?.textContent ?? '')?.[1];
				const local = tr.querySelector('td.c-address')?.getAttribute('data-local-address') ?? '';
				return {
					key: (tr as HTMLElement).dataset['key'] ?? '',
					kind: (tr as HTMLElement).dataset['kind'] ?? '',
					port: Number(port ?? 0),
					localPort: Number(/:(\d+)$/.exec(local)?.[1] ?? 0),
					origin: tr.querySelector('td.c-origin')?.textContent ?? '',
				};
			}),
		);
}

/** What `read` returns once it has not changed for `quietMs` (a chain would keep changing it). */
async function settled<T>(read: () => Promise<T>, what: string, quietMs = SETTLED_MS): Promise<T> {
	let last = JSON.stringify(await read());
	let since = Date.now();
	const json = await waitFor(
		async () => {
			const now = JSON.stringify(await read());
			if (now !== last) {
				last = now;
				since = Date.now();
				return undefined;
			}
			return Date.now() - since >= quietMs ? now : undefined;
		},
		`${what} to settle`,
		UI_TIMEOUT_MS * 2,
		250,
	);
	return JSON.parse(json) as T;
}

/** Rows that are a forward's own listener seen again: what a forwarding chain looks like. */
function chained(rows: readonly RowSeen[]): RowSeen[] {
	const own = new Set(rows.filter((r) => r.localPort > 0).map((r) => r.localPort));
	return rows.filter((r) => own.has(r.port));
}

/** Whether the element the webview's document has focused is `key`'s row, with the page's focus. */
async function focusedKey(page: Page): Promise<string | undefined> {
	const keys = await portsPanel(page)
		.locator('body')
		.evaluate(() =>
			document.hasFocus() ? ((document.activeElement as HTMLElement | null)?.dataset['key'] ?? '') : '',
		);
	return keys || undefined;
}

describe(
	'issue 8: the extension as a daily driver (real VS Code web workbench)',
	{ timeout: 10 * 60_000 },
	() => {
		it('auto-forward with a second agent on this host: at most one forward, never a chain', async () => {
			const agent: AgentProcess = await startAgent();
			await withWorkbench('same-host', async ({ page, screenshot }, cleanup) => {
				cleanup.push(() => agent.stop());
				await turnOnTunnelAccess(page);
				await connectToAgent(page, `127.0.0.1:${agent.port}`, 'Berth agent', agent.token!);
				await statusItem(page, /Berth: 1 agent\b/).waitFor({ timeout: UI_TIMEOUT_MS });
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				const agentId = `ws://127.0.0.1:${agent.port}`;
				const panel = portsPanel(page);
				await panel
					.locator('tr.agent[data-status="connected"]', { hasText: agentId })
					.waitFor({ timeout: UI_TIMEOUT_MS });

				// A new listener on the agent's host (this host) once the agent's first listing is in.
				const web = await serveText(GREETING);
				cleanup.push(() => web.close());
				await waitFor(
					async () => (await rowsOf(page, agentId)).some((r) => r.port === web.port),
					'the agent to report the new listener',
					UI_TIMEOUT_MS,
					250,
				);
				let rows = await settled(() => rowsOf(page, agentId), "the agent's rows");
				assert.ok(rows.filter((r) => r.kind !== 'detected').length <= 1, JSON.stringify(rows));
				assert.deepEqual(chained(rows), [], 'no forward of a forward');
				// This window's own tunnel-access listener is Berth's, not a service on that host.
				const tunnelPort = await agentLinePort(
					portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: 'This machine' }),
				);
				assert.ok(
					!rows.some((r) => r.port === tunnelPort),
					`the tunnel-access port ${tunnelPort} is listed under the second agent: ${JSON.stringify(rows)}`,
				);

				// The user forwards it by hand (if auto-forward did not): one listener of this window on
				// the agent's host, which the agent must neither list nor have forwarded again.
				if (!rows.some((r) => r.kind === 'local' && r.port === web.port)) {
					await runCommand(page, 'Berth: Forward a Port...');
					await pickItem(page, agentId);
					await answerInput(page, 'Forward a Port', String(web.port));
				}
				const row = forwardRow(page, agentId, web.port);
				await row.waitFor({ timeout: UI_TIMEOUT_MS });
				const address = await localAddressOf(row);
				const localPort = Number(address.split(':').pop());
				assert.ok(localPort > 0 && localPort !== web.port, address);
				const logBefore = agent.stderr.length;
				assert.equal(await (await fetch(`http://${address}/`)).text(), GREETING);
				rows = await settled(() => rowsOf(page, agentId), "the agent's rows after a forward");
				await screenshot('settled');
				assert.deepEqual(
					rows.filter((r) => r.kind !== 'detected').map((r) => r.port),
					[web.port],
					`exactly one forward: ${JSON.stringify(rows)}`,
				);
				assert.deepEqual(chained(rows), [], "the forward's own listener is neither detected nor forwarded");
				assert.ok(
					!rows.some((r) => /Auto Forwarded/.test(r.origin)),
					'nothing auto-forwarded from this host',
				);
				// One request is one connection in the agent's log, not a storm of them.
				const added = agent.stderr.slice(logBefore);
				assert.ok(added.length < 20, `the agent logged ${added.length} lines:\n${added.join('\n')}`);
				assert.ok(
					!agent.stderr.some((line) => line.includes(`:${localPort}`)),
					"the agent never connects to the forward's own listener",
				);
			});
		});

		it('recovers from a wrong token through Enter Token..., and stores the token only once it worked', async () => {
			const agent: AgentProcess = await startAgent();
			await withWorkbench('wrong-token', async ({ page, screenshot }, cleanup) => {
				cleanup.push(() => agent.stop());
				const agentId = `ws://127.0.0.1:${agent.port}`;
				const refused = new RegExp(`The agent at ${agentId} refused the connection token`);
				await connectToAgent(page, `127.0.0.1:${agent.port}`, 'Berth agent', 'wrong-token');
				await notification(page, refused).waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('refused');

				// The refused token was not stored: the token step offers no saved one.
				await runCommand(page, 'Berth: Connect to Agent...');
				await answerInput(page, 'Connect to Agent (1/3)', `127.0.0.1:${agent.port}`);
				await pickItem(page, 'Berth agent');
				const tokenStep = page.locator('.quick-input-widget', { hasText: 'Connect to Agent (3/3)' });
				await tokenStep.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.doesNotMatch((await tokenStep.textContent()) ?? '', /saved one/);
				await answerInput(page, 'Connect to Agent (3/3)', 'another-wrong-token');

				const toast = notification(page, refused).last();
				await toast.getByRole('button', { name: 'Enter Token...' }).click();
				await answerInput(page, `Connect to ${agentId}`, agent.token!);
				await statusItem(page, /Berth: 1 agent\b/).waitFor({ timeout: UI_TIMEOUT_MS });
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				const line = portsPanel(page).locator('tr.agent[data-status="connected"]', { hasText: agentId });
				await line.waitFor({ timeout: UI_TIMEOUT_MS });

				// Stored now: after a disconnect, an empty token step connects with the saved one.
				await runCommand(page, 'Berth: Disconnect from Agent...');
				await line.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
				await runCommand(page, 'Berth: Connect to Agent...');
				await answerInput(page, 'Connect to Agent (1/3)', `127.0.0.1:${agent.port}`);
				await pickItem(page, 'Berth agent');
				await page
					.locator('.quick-input-widget', { hasText: 'leave empty to use the saved one' })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await answerInput(page, 'Connect to Agent (3/3)', '');
				await line.waitFor({ timeout: UI_TIMEOUT_MS });
			});
		});

		it('is usable by keyboard alone: open, arrow to a row, F2 to label it, Delete to stop it', async () => {
			await withWorkbench('keyboard', async ({ page, screenshot }, cleanup) => {
				const first = await serveText('first');
				const second = await serveText('second');
				cleanup.push(
					() => first.close(),
					() => second.close(),
				);
				const [low, high] = first.port < second.port ? [first, second] : [second, first];
				await turnOnTunnelAccess(page);
				await forwardLocally(page, low.port);
				await forwardLocally(page, high.port);
				const lowKey = await forwardRow(page, 'local', low.port).getAttribute('data-key');
				const highRow = forwardRow(page, 'local', high.port);
				const highKey = await highRow.getAttribute('data-key');
				const highAddress = await localAddressOf(highRow);

				// Away from the panel, then back to it by its command: the focus lands on the first row.
				await runCommandByKeyboard(page, 'View: Hide Panel');
				await portsPanel(page).locator('body').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
				await runCommandByKeyboard(page, 'Berth: Show Remote Port Forwarding');
				await waitFor(
					async () => (await focusedKey(page)) === lowKey,
					'the first row to have the focus',
					UI_TIMEOUT_MS,
					100,
				);

				await page.keyboard.press('ArrowDown');
				await waitFor(
					async () => (await focusedKey(page)) === highKey,
					'ArrowDown to reach the next row',
					UI_TIMEOUT_MS,
					100,
				);

				await page.keyboard.press('F2');
				const labelInput = page.locator('.quick-input-widget', { hasText: 'Set Port Label' });
				await labelInput.waitFor({ timeout: UI_TIMEOUT_MS });
				await page.keyboard.type('Second server');
				await page.keyboard.press('Enter');
				await labelInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
				await highRow.filter({ hasText: `Second server (${high.port})` }).waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('labelled');

				// The focus came back to the row after the input box: Delete stops that forward.
				await waitFor(
					async () => (await focusedKey(page)) === highKey,
					'the focus back on the row',
					UI_TIMEOUT_MS,
					100,
				);
				await page.keyboard.press('Delete');
				await highRow.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
				const localPort = Number(highAddress.split(':').pop());
				await waitFor(
					async () => !(await isListening(localPort)),
					'the local port to close',
					UI_TIMEOUT_MS,
					100,
				);
				await forwardRow(page, 'local', low.port).waitFor({ timeout: UI_TIMEOUT_MS });
			});
		});

		it("opens a forwarded page from its row, at the window's external address", async () => {
			await withWorkbench('open-page', async ({ page, server, screenshot }, cleanup) => {
				const web = await serveText(GREETING);
				cleanup.push(() => web.close());
				await turnOnTunnelAccess(page);
				await forwardLocally(page, web.port);
				const row = forwardRow(page, 'local', web.port);
				const href = await row.locator('td.c-address a').getAttribute('href');
				const address = await localAddressOf(row);
				const localPort = Number(address.split(':').pop());
				// Not the server-side loopback address: the one asExternalUri gives this web window.
				assert.equal(href, `${server.url}/proxy/${localPort}/`);
				// That address is the server's /proxy/PORT/ (code-server's product.json): VS Code's
				// server-main.js alone does not serve it, so the browser is given what code-server does
				// there, and only there.
				const proxied = new RegExp(`/proxy/${localPort}/`);
				await page.context().route(proxied, async (route) => {
					const url = new URL(route.request().url());
					const target = `http://${address}${url.pathname.replace(proxied, '/')}${url.search}`;
					await route.fulfill({ response: await route.fetch({ url: target }) });
				});
				await row.hover();
				const opened = page.context().waitForEvent('page', { timeout: UI_TIMEOUT_MS });
				await row.getByRole('button', { name: /Open in Browser/ }).click();
				const tab = await opened;
				await tab.waitForLoadState('domcontentloaded', { timeout: UI_TIMEOUT_MS });
				assert.equal(tab.url(), href);
				assert.equal(await tab.locator('body').textContent(), GREETING, `the page at ${href}`);
				await screenshot('opened');
				await tab.close();
			});
		});

		it('shows the welcome view with no agent, and its buttons run their commands', async () => {
			await withWorkbench('welcome', async ({ page, screenshot }, cleanup) => {
				const web = await serveText(GREETING);
				cleanup.push(() => web.close());
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				const welcome = portsPanel(page).locator('section.welcome');
				await welcome.waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('welcome');

				await welcome.getByRole('button', { name: 'Connect to Agent...' }).click();
				await page
					.locator('.quick-input-widget', { hasText: 'Connect to Agent (1/3)' })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await page.keyboard.press('Escape');
				await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });

				await welcome.getByRole('button', { name: 'Turn On Tunnel Access' }).click();
				await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
				await welcome.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
				await statusItem(page, /Berth: on/).click();
				await statusItem(page, /Berth: off/).waitFor({ timeout: UI_TIMEOUT_MS });
				await welcome.waitFor({ timeout: UI_TIMEOUT_MS });

				// Forward a Port... needs an agent: it offers tunnel access, then goes on to the port.
				await welcome.getByRole('button', { name: 'Forward a Port...' }).click();
				const needs = notification(page, /Forwarding needs an agent/);
				await needs.getByRole('button', { name: 'Turn On Tunnel Access' }).click();
				await answerInput(page, 'Forward a Port', String(web.port));
				const row = forwardRow(page, 'local', web.port);
				await row.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.equal(await (await fetch(`http://${await localAddressOf(row)}/`)).text(), GREETING);
			});
		});

		it('keeps tunnel access on its port across a reload: 8765 or the next free one, then the one it chose', async () => {
			await withWorkbench('tunnel-port', async ({ page, screenshot }, cleanup) => {
				const line = portsPanel(page).locator('tr.agent[data-status="connected"]', {
					hasText: 'This machine',
				});
				await turnOnTunnelAccess(page);
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				await line.waitFor({ timeout: UI_TIMEOUT_MS });
				const first = await agentLinePort(line);
				assert.ok(first >= DEFAULT_TUNNEL_PORT, `8765 or the next free port, got ${first}`);
				await statusItem(page, /Berth: on/).click();
				await statusItem(page, /Berth: off/).waitFor({ timeout: UI_TIMEOUT_MS });

				// That port is taken now: it goes on the next free one, and keeps that one.
				const blocker = createServer();
				await new Promise<void>((resolve) => blocker.listen(first, '127.0.0.1', resolve));
				cleanup.push(() => new Promise((resolve) => blocker.close(resolve)));
				await statusItem(page, /Berth: off/).click();
				await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
				await line.waitFor({ timeout: UI_TIMEOUT_MS });
				const chosen = await agentLinePort(line);
				assert.ok(chosen > first, `the next free port after ${first}, got ${chosen}`);
				await new Promise((resolve) => blocker.close(resolve));
				assert.equal(await isListening(first), false);

				await page.reload();
				await page.locator('.statusbar').waitFor({ timeout: UI_TIMEOUT_MS });
				await statusItem(page, /Berth: on/).waitFor({ timeout: UI_TIMEOUT_MS });
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				await line.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.equal(
					await agentLinePort(line),
					chosen,
					`still ${chosen} after the reload, though ${first} is free`,
				);
				assert.equal(await isListening(chosen), true);
				await screenshot('restored');
			});
		});
	},
);
