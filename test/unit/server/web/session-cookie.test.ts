import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	clearedSessionCookie,
	SESSION_COOKIE,
	sessionCookie,
} from '../../../../server/http/web/session-cookie';

/** A Set-Cookie value's attributes, lowercased names. */
function attributes(value: string): Map<string, string> {
	const [, ...parts] = value.split(';').map((p) => p.trim());
	return new Map(parts.map((p) => [p.split('=')[0]!.toLowerCase(), p.split('=')[1] ?? '']));
}

describe('the session cookie', () => {
	it('holds the session id, HttpOnly, SameSite=Lax, Path=/, for 12 h, Secure over TLS only', () => {
		const plain = sessionCookie('id-123', false);
		assert.ok(plain.startsWith(`${SESSION_COOKIE}=id-123;`), plain);
		const attrs = attributes(plain);
		assert.equal(attrs.get('httponly'), '');
		assert.equal(attrs.get('samesite'), 'Lax');
		assert.equal(attrs.get('path'), '/');
		assert.equal(attrs.get('max-age'), String(12 * 3600));
		assert.equal(attrs.has('secure'), false);
		assert.equal(attrs.has('domain'), false, 'the agent host only');
		assert.equal(attributes(sessionCookie('id-123', true)).has('secure'), true);
	});

	it('is dropped on sign-out with an empty value and Max-Age=0, the same attributes', () => {
		const cleared = clearedSessionCookie(true);
		assert.ok(cleared.startsWith(`${SESSION_COOKIE}=;`), cleared);
		const attrs = attributes(cleared);
		assert.equal(attrs.get('max-age'), '0');
		assert.equal(attrs.has('secure'), true);
		assert.equal(attrs.get('samesite'), 'Lax');
	});
});
