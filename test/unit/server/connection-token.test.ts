import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConnectionToken, stripOneNewline } from '../../../server/connection-token';
import { sign, verifySignature } from '../../../server/shared/sign';

const dir = () => mkdtempSync(join(tmpdir(), 'berth-token-'));

describe('connection token rules', () => {
	it('strips exactly one trailing newline', () => {
		assert.equal(stripOneNewline('abc\n'), 'abc');
		assert.equal(stripOneNewline('abc\r\n'), 'abc');
		assert.equal(stripOneNewline('abc\n\n'), 'abc\n');
		assert.equal(stripOneNewline('abc'), 'abc');
	});

	it('accepts letters, digits, - and _ only', () => {
		const d = dir();
		assert.deepEqual(resolveConnectionToken({ connectionToken: 'A-b_9', configDir: d }), {
			type: 'mandatory',
			value: 'A-b_9',
			source: 'flag',
		});
		for (const bad of ['', 'a b', 'tok!en', 'ü']) {
			assert.throws(() => resolveConnectionToken({ connectionToken: bad, configDir: d }), {
				code: 'BERTH_ERR_TOKEN',
			});
		}
	});

	it('reads a token file, refusing one with two trailing newlines', () => {
		const d = dir();
		writeFileSync(join(d, 'ok'), 'secret\r\n');
		writeFileSync(join(d, 'bad'), 'secret\n\n');
		assert.equal(
			resolveConnectionToken({ connectionTokenFile: join(d, 'ok'), configDir: d }).type,
			'mandatory',
		);
		assert.throws(() => resolveConnectionToken({ connectionTokenFile: join(d, 'bad'), configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
		});
		assert.throws(
			() => resolveConnectionToken({ connectionTokenFile: join(d, 'missing'), configDir: d }),
			/ENOENT/,
		);
	});

	it('refuses conflicting flags with a usage error naming them', () => {
		const d = dir();
		assert.throws(
			() => resolveConnectionToken({ withoutConnectionToken: true, connectionToken: 'a', configDir: d }),
			{
				code: 'BERTH_ERR_USAGE',
				message: /--without-connection-token/,
			},
		);
		assert.throws(
			() => resolveConnectionToken({ connectionToken: 'a', connectionTokenFile: 'f', configDir: d }),
			{
				code: 'BERTH_ERR_USAGE',
				message: /--connection-token-file/,
			},
		);
		assert.deepEqual(resolveConnectionToken({ withoutConnectionToken: true, configDir: d }), {
			type: 'none',
		});
	});

	it('generates a UUID once, stores it mode 0600 in a 0700 folder, and reuses it', () => {
		const d = join(dir(), 'berth');
		const first = resolveConnectionToken({ configDir: d });
		assert.equal(first.type, 'mandatory');
		assert.match(first.type === 'mandatory' ? first.value : '', /^[0-9a-f-]{36}$/);
		assert.equal(statSync(join(d, 'token')).mode & 0o777, 0o600);
		assert.equal(statSync(d).mode & 0o777, 0o700);
		const second = resolveConnectionToken({ configDir: d });
		assert.equal(second.type === 'mandatory' && second.value, first.type === 'mandatory' && first.value);
		assert.equal(second.type === 'mandatory' && second.source, 'stored');
		assert.equal(
			readFileSync(join(d, 'token'), 'utf8').trim(),
			first.type === 'mandatory' ? first.value : '',
		);
	});
});

describe('signatures', () => {
	it('are base64url(HMAC-SHA256(key = token, message = data))', () => {
		// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
		const expected = Buffer.from(
			'5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
			'hex',
		).toString('base64url');
		assert.equal(sign('Jefe', 'what do ya want for nothing?'), expected);
		assert.ok(verifySignature('Jefe', 'what do ya want for nothing?', expected));
		assert.ok(!verifySignature('Jefe', 'what do ya want for nothing?', expected.slice(1)));
		assert.ok(!verifySignature('jefe', 'what do ya want for nothing?', expected));
	});
});
