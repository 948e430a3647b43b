/**
 * Issue 9's "In VS Code" in the real workbench: Start SOCKS Proxy... and Share This Machine's
 * Network... from the command palette, each driven by the real curl through its port, their rows
 * (mode, where traffic leaves, connections, bytes), back after a window reload on the same ports,
 * and stopped from the row (that a stopped proxy is forgotten is ProxyForwarding's unit test).
 * The agent runs on this host, so its proxy port is reachable here too.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { curl } from '../helpers/proxy-clients';
import { waitFor } from '../helpers/wait';
import {
	UI_TIMEOUT_MS,
	answerInput,
	connectToAgent,
	isListening,
	notification,
	openFreshWorkbench,
	pickItem,
	portsPanel,
	runCommand,
	serveText,
	statusItem,
} from './workbench';

const GREETING = 'hello from this machine, through a Berth proxy';

/** The row of the proxy whose Port cell starts with `label` (`SOCKS proxy`, `Shared network`). */
function proxyRow(page: Page, label: string) {
	return portsPanel(page).locator('tr.port[data-kind="proxy"]', { hasText: label });
}

/** The port a proxy row listens on (here for a SOCKS proxy, on the agent for a shared network). */
async function proxyPort(row: ReturnType<typeof proxyRow>): Promise<number> {
	const address = (await row.locator('td.c-address').getAttribute('data-proxy-address')) ?? '';
	return Number(address.split(':').pop());
}

/** Runs a proxy command from the palette with "Any Free Port", and waits for its row. */
async function startFromPalette(
	page: Page,
	command: string,
	label: string,
	screenshot: (step: string) => Promise<void>,
): Promise<number> {
	await runCommand(page, command);
	await page
		.locator('.quick-input-list .monaco-list-row', { hasText: 'Any Free Port' })
		.waitFor({ timeout: UI_TIMEOUT_MS });
	await screenshot(`${label.replace(/ /g, '-').toLowerCase()}-pick`);
	await pickItem(page, 'Any Free Port');
	const row = proxyRow(page, label);
	await row.waitFor({ timeout: UI_TIMEOUT_MS });
	return proxyPort(row);
}

/**
 * The agent comes back after a reload. This web workbench's SecretStorage does not outlive the
 * page, so the saved agent is tried without its token and refused: the user answers Enter
 * Token..., as they would here (a desktop window keeps the token and reconnects on its own).
 */
async function reconnectAfterReload(page: Page, agentId: string, token: string): Promise<void> {
	const connected = statusItem(page, /Berth: 1 agent\b/);
	const refused = notification(page, new RegExp(`The agent at ${agentId} refused the connection token`));
	await connected.or(refused).first().waitFor({ timeout: UI_TIMEOUT_MS });
	if (await refused.isVisible()) {
		await refused.getByRole('button', { name: 'Enter Token...' }).click();
		await answerInput(page, `Connect to ${agentId}`, token);
	}
	await connected.waitFor({ timeout: UI_TIMEOUT_MS });
}

/** curl through a proxy to the web server on this machine; its body. */
async function fetchThrough(proxy: string, webPort: number, path: string): Promise<string> {
	const result = await curl(['-x', proxy, `http://127.0.0.1:${webPort}${path}`]);
	assert.equal(result.code, 0, `curl -x ${proxy}: ${result.stderr}`);
	return result.stdout;
}

/** Waits until a row's Connections and Traffic cells show `total` connections and bytes both ways. */
async function countedIn(row: ReturnType<typeof proxyRow>, total: number): Promise<void> {
	await waitFor(
		async () => {
			const conn = (await row.locator('td.c-conn').textContent()) ?? '';
			const traffic = (await row.locator('td.c-traffic .totals').textContent()) ?? '';
			return conn === `0 open · ${total} total` && !/\b0 B\b/.test(traffic);
		},
		`the row to count ${total} connection(s) and their bytes`,
		UI_TIMEOUT_MS,
		250,
	);
}

describe(
	'issue 9 in VS Code: SOCKS proxy and shared network (real VS Code web workbench)',
	{ timeout: 10 * 60_000 },
	() => {
		it('starts both from the palette, carries curl, shows them as rows, restores them after a reload and stops them from the row', async () => {
			const agent: AgentProcess = await startAgent();
			const web = await serveText(GREETING);
			const wb = await openFreshWorkbench('proxy', { user: { 'security.workspace.trust.enabled': false } });
			const { page, screenshot } = wb;
			try {
				const agentId = `ws://127.0.0.1:${agent.port}`;
				await connectToAgent(page, `127.0.0.1:${agent.port}`, 'Berth agent', agent.token!);
				await statusItem(page, /Berth: 1 agent\b/).waitFor({ timeout: UI_TIMEOUT_MS });

				// Forward mode: a proxy here whose traffic leaves from the agent.
				const socksPort = await startFromPalette(
					page,
					'Berth: Start SOCKS Proxy...',
					'SOCKS proxy',
					screenshot,
				);
				const socks = proxyRow(page, 'SOCKS proxy');
				assert.ok((await socks.getAttribute('data-key'))?.startsWith(`${agentId}|p|`), 'a row of that agent');
				assert.equal(await fetchThrough(`socks5h://127.0.0.1:${socksPort}`, web.port, '/socks'), GREETING);
				await countedIn(socks, 1);
				assert.match((await socks.locator('td.c-process').textContent()) ?? '', /^Traffic leaves from /);
				assert.equal(await socks.locator('td.c-origin').textContent(), 'SOCKS Proxy');
				await notification(page, /SOCKS proxy on 127\.0\.0\.1:\d+/).waitFor({ timeout: UI_TIMEOUT_MS });

				// Reverse mode: a proxy port on the agent whose traffic leaves from this machine.
				const sharePort = await startFromPalette(
					page,
					"Berth: Share This Machine's Network...",
					'Shared network',
					screenshot,
				);
				const share = proxyRow(page, 'Shared network');
				assert.notEqual(sharePort, socksPort);
				assert.equal(await fetchThrough(`socks5h://127.0.0.1:${sharePort}`, web.port, '/share'), GREETING);
				assert.equal(await fetchThrough(`http://127.0.0.1:${sharePort}`, web.port, '/share-http'), GREETING);
				await countedIn(share, 2);
				assert.equal(await share.locator('td.c-process').textContent(), 'Traffic leaves from this machine');
				assert.match((await share.locator('td.c-address').textContent()) ?? '', / on the agent$/);
				await screenshot('running');

				// A reload: both come back on their ports, and carry traffic again.
				await page.reload();
				await page.locator('.statusbar').waitFor({ timeout: UI_TIMEOUT_MS });
				await reconnectAfterReload(page, agentId, agent.token!);
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				await socks.waitFor({ timeout: UI_TIMEOUT_MS });
				await share.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.deepEqual([await proxyPort(socks), await proxyPort(share)], [socksPort, sharePort]);
				assert.equal(await fetchThrough(`socks5h://127.0.0.1:${socksPort}`, web.port, '/again'), GREETING);
				assert.equal(await fetchThrough(`socks5h://127.0.0.1:${sharePort}`, web.port, '/again'), GREETING);
				await screenshot('restored');

				// Stopped from the row: the row goes, and so does the port (here, and on the agent).
				await socks.hover();
				await socks.getByRole('button', { name: /Stop SOCKS Proxy/ }).click();
				await socks.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
				await waitFor(
					async () => !(await isListening(socksPort)),
					'the SOCKS port to close',
					UI_TIMEOUT_MS,
					100,
				);
				await share.hover();
				await share.getByRole('button', { name: /Stop Sharing This Machine's Network/ }).click();
				await share.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
				await waitFor(
					async () => !(await isListening(sharePort)),
					"the agent's port to close",
					UI_TIMEOUT_MS,
					100,
				);
				await screenshot('stopped');
			} finally {
				await wb.close();
				await web.close();
				await agent.stop();
			}
		});
	},
);
