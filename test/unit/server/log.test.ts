import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactUrl, tokenPrefix } from '../../../server/shared/log';
import { exitCodeFor } from '../../../server/cli/exit-codes';
import { BerthError } from '../../../protocol/errors';
import { reconnectDelayMs } from '../../../server/client/agent-connection';

describe('logging', () => {
	it('redacts secrets in URLs', () => {
		assert.equal(redactUrl('/?tkn=secret&folder=x'), '/?tkn=***&folder=x');
		assert.equal(redactUrl('http://h:1/?token=s'), 'http://h:1/?token=***');
		assert.equal(redactUrl('http://u:pw@h/'), 'http://u:***@h/');
		assert.equal(redactUrl('/plain'), '/plain');
	});

	it('writes text lines with key=value fields, and JSON lines', () => {
		const lines: string[] = [];
		const now = () => new Date('2026-01-02T03:04:05.000Z');
		createLogger({ format: 'text', level: 'info', write: (l) => lines.push(l), now })
			.fork('agent')
			.info('connection', { peer: '127.0.0.1:1', reason: 'two words' });
		createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l), now }).warn('w', { n: 1 });
		createLogger({ format: 'text', level: 'warn', write: (l) => lines.push(l), now }).info('dropped');
		assert.deepEqual(lines, [
			'2026-01-02T03:04:05.000Z info  agent: connection peer=127.0.0.1:1 reason="two words"',
			'{"time":"2026-01-02T03:04:05.000Z","level":"warn","message":"w","n":1}',
		]);
	});

	it('shows only a prefix of identifiers', () => {
		assert.equal(tokenPrefix('0123456789abcdef'), '01234567');
	});
});

describe('CLI exit codes', () => {
	it('map each error code to the documented exit code', () => {
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_USAGE', '')), 2);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_TOKEN', '')), 2);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', '')), 3);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_SERVER_UNVERIFIED', '')), 3);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_CONNECT', '')), 4);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_LISTEN', '')), 5);
		assert.equal(exitCodeFor(new Error('bug')), 1);
	});
});

describe('reconnection schedule', () => {
	it('waits 0, 5, 5, 10, 10, 10, 10, 10, 30 s, then 30 s each time (VS Code’s)', () => {
		const delays = Array.from({ length: 11 }, (_, i) => reconnectDelayMs(i + 1) / 1000);
		assert.deepEqual(delays, [0, 5, 5, 10, 10, 10, 10, 10, 30, 30, 30]);
	});
});

describe('open-files limit', () => {
	it('reads the soft limit from /proc/self/limits, and counts open descriptors', async () => {
		const { readOpenFilesLimit, countOpenFiles } = await import('../../../server/client/fd-limit');
		const { mkdtempSync, writeFileSync } = await import('node:fs');
		const { join } = await import('node:path');
		const { tmpdir } = await import('node:os');
		const dir = mkdtempSync(join(tmpdir(), 'berth-limits-'));
		writeFileSync(
			join(dir, 'limits'),
			'Limit                     Soft Limit           Hard Limit           Units     \n' +
				'Max cpu time              unlimited            unlimited            seconds   \n' +
				'Max open files            1024                 4096                 files     \n',
		);
		assert.equal(readOpenFilesLimit(join(dir, 'limits')), 1024);
		assert.equal(readOpenFilesLimit(join(dir, 'missing')), undefined);
		assert.ok(countOpenFiles() >= 3, 'at least stdin, stdout and stderr');
	});
});
