import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTokenFile } from '../../../server/shared/read-token-file';
import { MAX_TOKEN_BYTES } from '../../../server/shared/token-rules';

const dir = () => mkdtempSync(join(tmpdir(), 'berth-token-file-'));

describe('readTokenFile', () => {
	it('reads a file of up to MAX_TOKEN_BYTES (at least 8 KiB, room for signed tokens), whole', () => {
		assert.ok(MAX_TOKEN_BYTES >= 8 * 1024);
		const path = join(dir(), 'token');
		const text = 'x'.repeat(MAX_TOKEN_BYTES - 1) + '\n';
		writeFileSync(path, text, { mode: 0o600 });
		assert.deepEqual(readTokenFile(path, { what: 'the file' }), { text, warnings: [] });
	});

	it('refuses a file one byte over the bound, naming it and the bound', () => {
		const path = join(dir(), 'token');
		writeFileSync(path, 'x'.repeat(MAX_TOKEN_BYTES + 1), { mode: 0o600 });
		assert.throws(() => readTokenFile(path, { what: `--token-file ${path}` }), {
			code: 'BERTH_ERR_TOKEN',
			message: new RegExp(`--token-file ${path} holds more than 16 KiB`),
		});
	});

	it('stops reading an endless device at the bound', () => {
		const started = Date.now();
		assert.throws(
			() => readTokenFile('/dev/zero', { what: '--connection-token-file /dev/zero', maxBytes: 1024 }),
			{
				code: 'BERTH_ERR_TOKEN',
				message: /\/dev\/zero holds more than 1 KiB/,
			},
		);
		assert.throws(() => readTokenFile('/dev/zero', { what: 'the file' }), { message: /more than 16 KiB/ });
		assert.ok(Date.now() - started < 1_000, 'within a second');
	});

	it('names the file and the errno when it cannot be read', () => {
		const path = join(dir(), 'missing');
		assert.throws(() => readTokenFile(path, { what: `the file ${path}` }), {
			code: 'BERTH_ERR_TOKEN',
			message: new RegExp(`cannot read the file ${path}: ENOENT`),
		});
		assert.throws(() => readTokenFile(dir(), { what: 'a folder' }), {
			message: /cannot read a folder: EISDIR/,
		});
	});
});
