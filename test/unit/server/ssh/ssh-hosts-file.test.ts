import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SSH_HOSTS_FILE, SshHostsFile, parseSshHosts } from '../../../../server/client/ssh/ssh-hosts-file';

const TOKEN = 'T'.repeat(43);
const OTHER = 'O'.repeat(43);

describe('ssh-hosts.json (berth ssh`s tokens)', () => {
	const now = () => new Date('2026-01-02T03:04:05.000Z');
	const made: string[] = [];
	const temp = (): string => {
		const dir = mkdtempSync(join(tmpdir(), 'berth-ssh-hosts-'));
		made.push(dir);
		return dir;
	};
	after(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

	it('keeps a token per host, 0600, and forgets it', async () => {
		const dir = join(temp(), 'config');
		const file = new SshHostsFile(dir, now);
		assert.equal(await file.get('devbox'), undefined);
		await file.set('devbox', { commit: 'c1', token: TOKEN });
		await file.set('other|dir=/x', { commit: 'c1', token: OTHER });
		assert.deepEqual(await file.get('devbox'), { commit: 'c1', token: TOKEN });
		assert.equal(statSync(join(dir, SSH_HOSTS_FILE)).mode & 0o777, 0o600);
		assert.equal(statSync(dir).mode & 0o777, 0o700);
		const written = JSON.parse(readFileSync(join(dir, SSH_HOSTS_FILE), 'utf8'));
		assert.equal(written.hosts.devbox.last_used, '2026-01-02T03:04:05.000Z');
		await file.delete('devbox');
		assert.equal(await file.get('devbox'), undefined);
		assert.deepEqual(await file.get('other|dir=/x'), { commit: 'c1', token: OTHER });
	});

	it('keeps members it does not know', async () => {
		const dir = temp();
		writeFileSync(join(dir, SSH_HOSTS_FILE), JSON.stringify({ hosts: {}, later: { x: 1 } }), { mode: 0o600 });
		await new SshHostsFile(dir, now).set('devbox', { commit: 'c1', token: TOKEN });
		assert.deepEqual(JSON.parse(readFileSync(join(dir, SSH_HOSTS_FILE), 'utf8')).later, { x: 1 });
	});

	it('refuses a file that does not parse, naming it, never showing a token', () => {
		const bad = [
			'not json',
			'[]',
			'{"hosts":[]}',
			'{"hosts":{"h":{"commit":"c","token":"short","last_used":""}}}',
			`{"hosts":{"h":{"commit":"c","token":"${TOKEN}"}}}`,
		];
		for (const text of bad) {
			assert.throws(
				() => parseSshHosts(text, '/cfg/ssh-hosts.json'),
				(error: Error & { code?: string }) =>
					error.code === 'BERTH_ERR_USAGE' &&
					error.message.includes('/cfg/ssh-hosts.json') &&
					!error.message.includes(TOKEN),
			);
		}
	});
});
