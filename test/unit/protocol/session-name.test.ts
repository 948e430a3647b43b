import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMuxArgs, MUX_VERSION, parseMuxArgs } from '../../../protocol/mux-frames';
import {
	defaultSessionName,
	isSessionName,
	isSessionPrefix,
	MAX_SESSION_NAME_CHARS,
} from '../../../protocol/session-name';

describe('session names', () => {
	it('are 1 to 128 characters without control characters', () => {
		assert.ok(isSessionName('alice-laptop'));
		assert.ok(isSessionName('ü'.repeat(MAX_SESSION_NAME_CHARS)));
		for (const bad of [
			'',
			'x'.repeat(MAX_SESSION_NAME_CHARS + 1),
			'a\nb',
			'a\u001b[31m',
			'a\u0085',
			7,
			null,
		]) {
			assert.ok(!isSessionName(bad), JSON.stringify(bad));
		}
	});

	it('have prefixes of at most 64 characters, empty included', () => {
		assert.ok(isSessionPrefix(''));
		assert.ok(isSessionPrefix('matthew-'));
		assert.ok(!isSessionPrefix('x'.repeat(65)));
		assert.ok(!isSessionPrefix('a\tb'));
	});

	it('default to the prefix and the host name, cut to the bound', () => {
		assert.equal(defaultSessionName('alice-', 'laptop'), 'alice-laptop');
		assert.equal(defaultSessionName('', 'laptop'), 'laptop');
		assert.equal(defaultSessionName('p-', 'h'.repeat(300)).length, MAX_SESSION_NAME_CHARS);
		assert.equal(defaultSessionName('', 'bad\u0007host'), 'bad?host');
		assert.equal(defaultSessionName('', ''), 'berth');
	});
});

describe('the session name in the Mux args', () => {
	it('is sent when the client has one, and read back', () => {
		assert.deepEqual(createMuxArgs(), { version: MUX_VERSION, features: [] });
		const args = createMuxArgs('alice-laptop');
		assert.deepEqual(args, { version: MUX_VERSION, features: [], sessionName: 'alice-laptop' });
		assert.deepEqual(parseMuxArgs(JSON.parse(JSON.stringify(args))), args);
	});

	it('is dropped, never a refusal, when it is not a session name', () => {
		for (const sessionName of [42, '', 'x'.repeat(MAX_SESSION_NAME_CHARS + 1), 'a\u001bb']) {
			assert.deepEqual(parseMuxArgs({ version: MUX_VERSION, features: [], sessionName }), {
				version: MUX_VERSION,
				features: [],
			});
		}
	});
});
