/**
 * Issue 12 in the real workbench: Berth: Connect to Host via SSH... against a real OpenSSH server
 * (test/helpers/sshd.ts) on this machine. The extension reads its own ssh config
 * (`berth.ssh.configFile`) and keeps the host's side in a folder of the test's
 * (`berth.ssh.remoteDir`). The config asks about the host key (no BatchMode, a fresh known_hosts),
 * so the question reaches the user through the askpass helper and an input box.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/agent-process';
import { startSshServer, type SshServer } from '../helpers/sshd';
import { waitFor } from '../helpers/wait';
import {
	UI_TIMEOUT_MS,
	answerInput,
	forwardRow,
	localAddressOf,
	notification,
	openFreshWorkbench,
	portsPanel,
	runCommand,
	serveText,
	statusItem,
	type Workbench,
} from './workbench';

const GREETING = 'hello from a port of the ssh host';
/** An ssh login, an upload of the agent and its start, on two busy cores. */
const SSH_WAIT_MS = 90_000;

/** One test's ssh side: the server, a config that asks, and the host's Berth folder. */
interface SshWorld {
	readonly sshd: SshServer;
	readonly dir: string;
	readonly configFile: string;
	readonly remoteDir: string;
}

/**
 * The sshd's client config, made to ask as a user's would: a known_hosts of its own (empty), the
 * host key asked about, and no BatchMode (which forbids every prompt).
 */
async function startSshWorld(): Promise<SshWorld> {
	const sshd = await startSshServer();
	const dir = tempDir('berth-e2e-ssh-');
	const configFile = join(dir, 'ssh_config');
	const config = readFileSync(sshd.configFile, 'utf8')
		.replace(/^\s*UserKnownHostsFile .*$/gm, `  UserKnownHostsFile ${join(dir, 'known_hosts')}`)
		.replace(/^\s*StrictHostKeyChecking .*$/gm, '  StrictHostKeyChecking ask')
		.replace(/^\s*BatchMode .*$/gm, '  BatchMode no');
	assert.match(config, /StrictHostKeyChecking ask/);
	writeFileSync(configFile, config);
	return { sshd, dir, configFile, remoteDir: join(dir, 'remote') };
}

/** Ends every agent the test started on the "host" (its state files say which), then the server. */
async function stopSshWorld(world: SshWorld): Promise<void> {
	for (const pid of agentPids(world.remoteDir)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// Gone already.
		}
	}
	await world.sshd.stop();
	rmSync(world.dir, { recursive: true, force: true });
}

function agentPids(remoteDir: string): number[] {
	if (!existsSync(remoteDir)) {
		return [];
	}
	return readdirSync(remoteDir)
		.filter((name) => /^agent-.*\.json$/.test(name))
		.map((name) => (JSON.parse(readFileSync(join(remoteDir, name), 'utf8')) as { pid: number }).pid);
}

/**
 * A fresh workbench pointed at the world's ssh config and host folder (machine settings: Berth
 * runs on the server here, which takes them from its own settings only); auto-forwarding off.
 */
function openSshWorkbench(name: string, world: SshWorld): Promise<Workbench> {
	return openFreshWorkbench(name, {
		user: { 'security.workspace.trust.enabled': false, 'berth.autoForwardPorts': false },
		machine: { 'berth.ssh.configFile': world.configFile, 'berth.ssh.remoteDir': world.remoteDir },
	});
}

/** Connect to Host via SSH... with `host` picked from the list (the config's Host entries). */
async function connectToHost(page: Page, host: string): Promise<void> {
	await runCommand(page, 'Berth: Connect to Host via SSH...');
	await pickHost(page, host);
}

/** Picks the list entry whose label is exactly `host` (`berth-test` is a prefix of another). */
async function pickHost(page: Page, host: string): Promise<void> {
	const row = page
		.locator('.quick-input-list .monaco-list-row')
		.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${host}$`) }) })
		.first();
	await row.waitFor({ timeout: UI_TIMEOUT_MS });
	await row.click();
}

/** ssh's host key question, in an input box titled with the host: answered yes. */
async function trustHostKey(page: Page, host: string): Promise<void> {
	const box = page.locator('.quick-input-widget', { hasText: `ssh: ${host}: unknown host key` });
	await box.waitFor({ timeout: SSH_WAIT_MS });
	assert.match((await box.textContent()) ?? '', /key fingerprint is SHA256:/);
	await answerInput(page, `ssh: ${host}: unknown host key`, 'yes');
}

/** The ssh master connections (`ssh -M`) that the extension runs with this config. */
function tunnelMasters(configFile: string): number[] {
	return readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.filter((name) => {
			try {
				const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
				return args[0]?.endsWith('ssh') === true && args.includes('-M') && args.includes(configFile);
			} catch {
				return false; // gone meanwhile
			}
		})
		.map(Number);
}

describe(
	'issue 12 in VS Code: Connect to Host via SSH (real VS Code web workbench, real sshd)',
	{
		timeout: 10 * 60_000,
	},
	() => {
		it('connects to a host of the ssh config, forwards its port from the panel, reconnects after a drop, and stops the agent', async () => {
			const world = await startSshWorld();
			const web = await serveText(GREETING);
			const wb = await openSshWorkbench('ssh', world);
			const { page, screenshot } = wb;
			const host = world.sshd.host;
			const agentId = `ssh://${host}`;
			try {
				await connectToHost(page, host);
				await trustHostKey(page, host);
				await statusItem(page, /Berth: 1 agent\b/).waitFor({ timeout: SSH_WAIT_MS });
				assert.equal(agentPids(world.remoteDir).length, 1, 'one agent started on the host');
				await runCommand(page, 'Berth: Show Remote Port Forwarding');
				const panel = portsPanel(page);
				const agentLine = panel.locator('tr.agent', { hasText: agentId });
				const agentIs = (status: string) =>
					panel.locator(`tr.agent[data-status="${status}"]`, { hasText: agentId });
				await agentIs('connected').waitFor({ timeout: UI_TIMEOUT_MS });

				// The host's port, as the agent detected it, forwarded from the panel.
				const detected = panel.locator(`tr.port[data-kind="detected"][data-key^="${agentId}|"]`, {
					hasText: String(web.port),
				});
				await detected.waitFor({ timeout: UI_TIMEOUT_MS });
				await screenshot('connected');
				await detected.hover();
				await detected.getByRole('button', { name: /Forward Port/ }).click();
				const row = forwardRow(page, agentId, web.port);
				await row.waitFor({ timeout: UI_TIMEOUT_MS });
				const address = await localAddressOf(row);
				assert.equal(await (await fetch(`http://${address}/`)).text(), GREETING);

				// A drop: the ssh connection is killed while the config is away, so the tunnel cannot come
				// back at once; the panel says "reconnecting", then the same agent is back, its session
				// resumed, and so is the forward.
				const [master] = tunnelMasters(world.configFile);
				assert.ok(master !== undefined, 'no ssh -M of the extension');
				const [agentPid] = agentPids(world.remoteDir);
				renameSync(world.configFile, `${world.configFile}.away`);
				try {
					process.kill(master, 'SIGKILL');
					await agentIs('reconnecting').waitFor({ timeout: UI_TIMEOUT_MS });
					await screenshot('reconnecting');
				} finally {
					renameSync(`${world.configFile}.away`, world.configFile);
				}
				// Reconnect, while the agent holds the session: ssh again now, and the same session resumes
				// through the new tunnel (before, Reconnect opened a new connection and lost the old one's).
				await agentLine.hover();
				await agentLine.getByRole('button', { name: /^Reconnect/ }).click();
				await agentIs('connected').waitFor({ timeout: SSH_WAIT_MS });
				await agentLine
					.filter({ hasText: /resumed (after \d+ s|in under a second), no connection lost/ })
					.waitFor({ timeout: UI_TIMEOUT_MS });
				await waitFor(
					async () => (await (await fetch(`http://${address}/`)).text()) === GREETING,
					'the forward to carry bytes again',
					SSH_WAIT_MS,
					500,
				);
				assert.deepEqual(agentPids(world.remoteDir), [agentPid], 'the same agent');

				// Stop Agent on Host: the host is offered first (connected); the agent and its token go.
				await runCommand(page, 'Berth: Stop Agent on Host');
				await pickHost(page, host);
				await notification(
					page,
					new RegExp(`Stopped the Berth agent \\(pid ${agentPid}\\) on ${host}`),
				).waitFor({
					timeout: SSH_WAIT_MS,
				});
				await agentLine.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
				assert.deepEqual(agentPids(world.remoteDir), [], 'its state file is gone');
				assert.deepEqual(
					readdirSync(world.remoteDir).filter((name) => name.startsWith('token-')),
					[],
					'its token file is gone',
				);
				await waitFor(() => !existsSync(`/proc/${agentPid}`), 'the agent to exit', UI_TIMEOUT_MS, 200);
				await screenshot('stopped');
			} finally {
				await wb.close();
				await web.close();
				await stopSshWorld(world);
			}
		});

		it('says how to fix a host without Node.js (the berth.ssh.nodePath setting), offers no retry, and starts nothing', async () => {
			const world = await startSshWorld();
			const wb = await openSshWorkbench('ssh-no-node', world);
			const { page, screenshot } = wb;
			const host = world.sshd.hostWithoutNode;
			try {
				await connectToHost(page, host);
				await trustHostKey(page, host);
				const toast = notification(
					page,
					new RegExp(`Cannot connect to ${host} over ssh: no node on ${host}'s PATH`),
				);
				await toast.waitFor({ timeout: SSH_WAIT_MS });
				assert.match(
					(await toast.textContent()) ?? '',
					/the berth\.ssh\.nodePath setting; no agent was started/,
				);
				assert.ok(await toast.getByRole('button', { name: 'Retry' }).isHidden(), 'no Retry');
				await screenshot('no-node');
				await toast.getByRole('button', { name: 'Open Settings' }).click();
				// The settings editor, at the one setting.
				await page
					.locator('.settings-editor .setting-item-label', { hasText: 'Node Path' })
					.first()
					.waitFor({ timeout: UI_TIMEOUT_MS });
				assert.deepEqual(agentPids(world.remoteDir), [], 'no agent started');
				assert.equal(await statusItem(page, /Berth: 1 agent\b/).count(), 0, 'no agent connected');
			} finally {
				await wb.close();
				await stopSshWorld(world);
			}
		});
	},
);
