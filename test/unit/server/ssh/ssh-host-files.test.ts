import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
	readAgentState,
	readAgentToken,
	removeAgentFiles,
	writeAgentState,
	writeAgentToken,
	type AgentFiles,
} from '../../../../server/cli/ssh-host/agent-state';
import { withHostLock } from '../../../../server/cli/ssh-host/host-lock';
import { createNodeTimers } from '../../../../server/shared/transport/node-timers';
import { ManualTimers } from '../../../helpers/manual-timers';

const TOKEN = 'x'.repeat(43);

const made: string[] = [];

function files(): AgentFiles {
	const dir = mkdtempSync(join(tmpdir(), 'berth-ssh-host-files-'));
	made.push(dir);
	return { dir, commit: 'c0ffee' };
}

describe("the host's files of berth ssh", () => {
	after(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

	it('writes the state and token 0600 and reads them back; --stop removes both', () => {
		const f = files();
		writeAgentState(f, { pid: 42, port: 40000, started: '2026-01-01T00:00:00.000Z' });
		writeAgentToken(f, TOKEN);
		assert.deepEqual(readAgentState(f), { pid: 42, port: 40000, started: '2026-01-01T00:00:00.000Z' });
		assert.equal(readAgentToken(f), TOKEN);
		assert.equal(statSync(join(f.dir, 'token-c0ffee')).mode & 0o777, 0o600);
		assert.equal(statSync(join(f.dir, 'agent-c0ffee.json')).mode & 0o777, 0o600);
		removeAgentFiles(f);
		assert.equal(readAgentState(f), undefined);
		assert.equal(readAgentToken(f), undefined);
	});

	it('reads a state file that does not parse, or a token that is not one, as none', () => {
		const f = files();
		for (const text of ['{', '[]', '{"pid":0,"port":1}', '{"pid":1,"port":70000}']) {
			writeFileSync(join(f.dir, 'agent-c0ffee.json'), text, { mode: 0o600 });
			assert.equal(readAgentState(f), undefined, text);
		}
		writeFileSync(join(f.dir, 'token-c0ffee'), 'short\n', { mode: 0o600 });
		assert.equal(readAgentToken(f), undefined);
	});

	it('lets one client at a time check, start or stop the agent', async () => {
		const f = files();
		const timers = new ManualTimers();
		const order: string[] = [];
		let release!: () => void;
		const first = withHostLock(f, timers, async () => {
			order.push('first in');
			await new Promise<void>((resolve) => (release = resolve));
			order.push('first out');
		});
		const second = withHostLock(f, timers, async () => {
			order.push('second in');
		});
		for (let i = 0; i < 10; i++) {
			timers.advance(100); // the second's polls, for a second: the lock is held
			await Promise.resolve();
		}
		assert.deepEqual(order, ['first in']);
		release();
		await first;
		timers.advance(100);
		await second;
		assert.deepEqual(order, ['first in', 'first out', 'second in']);
		assert.ok(!existsSync(join(f.dir, 'lock-c0ffee')));
	});

	it('takes over the lock of a client that died holding it', async () => {
		const f = files();
		const lock = join(f.dir, 'lock-c0ffee');
		mkdirSync(lock);
		const old = new Date(Date.now() - 120_000);
		utimesSync(lock, old, old);
		assert.equal(await withHostLock(f, createNodeTimers(), async () => 'taken'), 'taken');
	});
});
