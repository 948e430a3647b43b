import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	decodeBase64,
	parseAbsoluteTarget,
	parseAuthority,
	parseBasicCredentials,
} from '../../../protocol/http-proxy';

describe('parseAuthority (CONNECT)', () => {
	const rows: [string, { host: string; port: number } | undefined][] = [
		['example.com:443', { host: 'example.com', port: 443 }],
		['127.0.0.1:5432', { host: '127.0.0.1', port: 5432 }],
		['[::1]:22', { host: '::1', port: 22 }],
		['[2001:db8::1]:8080', { host: '2001:db8::1', port: 8080 }],
		['example.com', undefined],
		['example.com:', undefined],
		['example.com:0', undefined],
		['example.com:65536', undefined],
		[':443', undefined],
		['::1:22', undefined],
		['[::1]22', undefined],
		['exa mple.com:443', undefined],
		['a/b:443', undefined],
		['h'.repeat(300) + ':1', undefined],
	];
	for (const [text, target] of rows) {
		it(`reads ${JSON.stringify(text.slice(0, 30))}`, () => assert.deepEqual(parseAuthority(text), target));
	}
});

describe('parseAbsoluteTarget', () => {
	const rows: [string, { host: string; port: number; path: string } | undefined][] = [
		['http://example.com/a?b=1', { host: 'example.com', port: 80, path: '/a?b=1' }],
		['http://example.com', { host: 'example.com', port: 80, path: '/' }],
		['http://example.com:8080/x', { host: 'example.com', port: 8080, path: '/x' }],
		['HTTP://Example.com/', { host: 'Example.com', port: 80, path: '/' }],
		['http://[::1]:3000/x#frag', { host: '::1', port: 3000, path: '/x' }],
		['http://[::1]/', { host: '::1', port: 80, path: '/' }],
		['http://example.com?q', { host: 'example.com', port: 80, path: '/?q' }],
		['https://example.com/', undefined],
		['/relative', undefined],
		['http://user:pass@example.com/', undefined],
		['http://example.com:99999/', undefined],
	];
	for (const [text, target] of rows) {
		it(`reads ${text}`, () => assert.deepEqual(parseAbsoluteTarget(text), target));
	}
});

describe('parseBasicCredentials', () => {
	const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;
	it('reads a username with labels and an empty password', () => {
		assert.deepEqual(parseBasicCredentials(basic('app-idle-2s:')), { username: 'app-idle-2s', password: '' });
		assert.deepEqual(parseBasicCredentials(basic('u:p:q')), { username: 'u', password: 'p:q' });
		assert.deepEqual(parseBasicCredentials('basic ' + Buffer.from('a:b').toString('base64')), {
			username: 'a',
			password: 'b',
		});
	});
	it('refuses other schemes, bad base64 and no colon', () => {
		assert.equal(parseBasicCredentials('Bearer abc'), undefined);
		assert.equal(parseBasicCredentials('Basic !!!'), undefined);
		assert.equal(parseBasicCredentials(basic('nocolon')), undefined);
	});
	it('decodes base64 like Node does', () => {
		for (const text of ['', 'a', 'ab', 'abc', 'abcd', 'héllo wörld', '\u0000\u00ff']) {
			const encoded = Buffer.from(text).toString('base64');
			assert.equal(Buffer.from(decodeBase64(encoded)!).toString(), text);
			assert.equal(Buffer.from(decodeBase64(encoded.replace(/=+$/, ''))!).toString(), text);
		}
	});
});
