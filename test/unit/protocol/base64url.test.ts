import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeBase64url, encodeBase64url } from '../../../protocol/base64url';

describe('base64url', () => {
	it("encodes and decodes as Node's Buffer does, every length up to 64", () => {
		for (let length = 0; length <= 64; length++) {
			const bytes = randomBytes(length);
			const text = encodeBase64url(bytes);
			assert.equal(text, bytes.toString('base64url'), `length ${length}`);
			assert.deepEqual(Buffer.from(decodeBase64url(text)!), bytes, `length ${length}`);
		}
	});

	it('uses - and _ where base64 has + and /', () => {
		assert.equal(encodeBase64url(new Uint8Array([0xfb, 0xff])), '-_8');
		assert.deepEqual(decodeBase64url('-_8'), new Uint8Array([0xfb, 0xff]));
	});

	it('refuses other characters, padding and impossible lengths', () => {
		for (const text of ['ab+c', 'ab/c', 'YQ==', 'a b', 'abcde', 'é']) {
			assert.equal(decodeBase64url(text), undefined, text);
		}
	});
});
