import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { shellQuote, statusPageLine } from '../../../server/cli/status-page-line';

describe('statusPageLine', () => {
	it('is the bare URL when no token file may be named', () => {
		assert.equal(statusPageLine('http://127.0.0.1:8765/', undefined), 'Status page: http://127.0.0.1:8765/');
	});

	for (const name of ['token', "it's a token", 'with space $HOME `x`']) {
		it(`gives a shell command that prints the link with the token, for a file named ${JSON.stringify(name)}`, () => {
			const folder = mkdtempSync(join(tmpdir(), 'berth status '));
			const path = join(folder, name);
			writeFileSync(path, 'the-secret-token-1234\n', { mode: 0o600 });
			const line = statusPageLine('http://127.0.0.1:8765/', path);
			assert.ok(!line.includes('the-secret-token-1234'));
			const command = /\(the link that signs in: (.+)\)$/.exec(line)?.[1];
			assert.ok(command, line);
			const printed = execFileSync('sh', ['-c', command], { encoding: 'utf8' });
			assert.equal(printed, 'http://127.0.0.1:8765/?tkn=the-secret-token-1234\n');
		});
	}

	it('quotes only what a shell would split or expand', () => {
		assert.equal(shellQuote('/home/me/.config/berth/token'), '/home/me/.config/berth/token');
		assert.equal(shellQuote('/a b'), "'/a b'");
		assert.equal(shellQuote("it's"), "'it'\\''s'");
	});
});
