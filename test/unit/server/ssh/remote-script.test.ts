import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildRemoteScript, shellQuote } from '../../../../server/client/ssh/remote-script';

describe("berth ssh's script for the host", () => {
	it('quotes any text as one word for sh', () => {
		for (const text of ["it's", '$HOME `id` "x" \\ ; & |', '', '~/.berth', 'a\nb']) {
			assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' }), text);
		}
	});

	it('is one brace group, so that the shell reads all of it before it runs any', () => {
		const script = buildRemoteScript({ remoteDir: "/srv/o'dir", nodePath: '', commit: 'c0ffee' });
		assert.ok(script.startsWith('{\n') && script.endsWith('\n}\n'), script);
		assert.ok(script.includes(shellQuote("/srv/o'dir")));
	});

	it('says there is no node, in its own line among any other output, and keeps the session for the client', () => {
		const script = buildRemoteScript({ remoteDir: '', nodePath: '/nonexistent/node', commit: 'c0ffee' });
		const out = execFileSync('sh', [], { input: script, encoding: 'utf8' });
		assert.deepEqual(out.trim().split('\n'), [
			'berth-ssh {"type":"no-node","reason":"not-executable"}',
			'berth-ssh {"type":"exit","status":0}',
		]);
	});
});
