import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentUrl } from '../../../server/client/agent-url';

describe('parseAgentUrl', () => {
	for (const url of [
		'ws://127.0.0.1:8765/?tkn=secret',
		'ws://127.0.0.1:8765/?token=secret',
		'ws://127.0.0.1:8765/?connectionToken=secret',
		'ws://127.0.0.1:8765/path?a=1&CONNECTIONTOKEN=secret',
		'http://127.0.0.1:8765/?Token=secret',
		'ws://user:secret@127.0.0.1:8765',
	]) {
		it(`refuses ${url}: a token in the URL would sit in argv`, () => {
			assert.throws(
				() => parseAgentUrl(url),
				(error: Error & { code?: string }) => {
					assert.equal(error.code, 'BERTH_ERR_USAGE');
					assert.match(error.message, /holds a token.*--token-file, BERTH_TOKEN or stdin/);
					assert.ok(!error.message.includes('secret'), 'the message does not repeat the token');
					return true;
				},
			);
		});
	}

	it('keeps other query parameters out of the way', () => {
		const address = parseAgentUrl('ws://127.0.0.1:8765/base?tokens=1&folder=x');
		assert.equal(address.port, 8765);
		assert.equal(address.path, '/base');
	});

	it('reads https:// as wss:// and http:// as ws://, with their default ports', () => {
		const secure = parseAgentUrl('https://agent.example/base');
		assert.deepEqual(
			{ secure: secure.secure, port: secure.port, display: secure.display },
			{ secure: true, port: 443, display: 'wss://agent.example/base' },
		);
		const tls = parseAgentUrl('wss://127.0.0.1:9443');
		assert.deepEqual({ secure: tls.secure, port: tls.port }, { secure: true, port: 9443 });
		const plain = parseAgentUrl('http://127.0.0.1');
		assert.deepEqual({ secure: plain.secure, port: plain.port }, { secure: false, port: 80 });
	});
});
