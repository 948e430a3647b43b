import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { countOpenFiles, readOpenFilesLimit } from '../../../server/client/fd-limit';

describe('open-files limit', () => {
	it('reads the soft limit from /proc/self/limits, and undefined where it cannot', () => {
		const dir = mkdtempSync(join(tmpdir(), 'berth-limits-'));
		writeFileSync(
			join(dir, 'limits'),
			'Limit                     Soft Limit           Hard Limit           Units     \n' +
				'Max cpu time              unlimited            unlimited            seconds   \n' +
				'Max open files            1024                 4096                 files     \n',
		);
		assert.equal(readOpenFilesLimit(join(dir, 'limits')), 1024);
		assert.equal(readOpenFilesLimit(join(dir, 'missing')), undefined);
	});

	it('counts open descriptors, and 0 where it cannot', () => {
		assert.ok(countOpenFiles() >= 3, 'at least stdin, stdout and stderr');
		assert.equal(countOpenFiles(join(tmpdir(), 'berth-no-such-folder')), 0);
	});
});
