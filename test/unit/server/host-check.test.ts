import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnameOf, isAllowedHost, isAllowedOrigin, isLoopbackHost } from '../../../server/http/host-check';

describe('host checks', () => {
	const loopback: [string, boolean][] = [
		['127.0.0.1', true],
		['127.8.9.10', true],
		['localhost', true],
		['app.localhost', true],
		['::1', true],
		['[::1]', true],
		['::ffff:127.0.0.1', true],
		['0.0.0.0', false],
		['10.0.0.1', false],
		['evil.example', false],
		['localhost.evil.example', false],
		['::', false],
	];
	for (const [host, expected] of loopback) {
		it(`${host} is ${expected ? '' : 'not '}loopback`, () => assert.equal(isLoopbackHost(host), expected));
	}

	it('reads the name out of Host header values', () => {
		assert.equal(hostnameOf('localhost:8765'), 'localhost');
		assert.equal(hostnameOf('[::1]:8765'), '::1');
		assert.equal(hostnameOf('127.0.0.1'), '127.0.0.1');
		assert.equal(hostnameOf('[::1'), undefined);
		assert.equal(hostnameOf('a b'), undefined);
		assert.equal(hostnameOf('host:port'), undefined);
	});

	it('on a loopback listener answers only loopback Host names (DNS rebinding)', () => {
		assert.equal(isAllowedHost('127.0.0.1:8765', '127.0.0.1'), true);
		assert.equal(isAllowedHost('localhost:8765', '127.0.0.1'), true);
		assert.equal(isAllowedHost(undefined, '127.0.0.1'), true, 'VS Code’s desktop client sends no Host');
		assert.equal(isAllowedHost('rebind.evil.example:8765', '127.0.0.1'), false);
		assert.equal(
			isAllowedHost('rebind.evil.example:8765', '0.0.0.0'),
			true,
			'a public listener answers any name',
		);
	});

	it('accepts no Origin, or the agent’s own (cross-site WebSocket hijacking)', () => {
		assert.equal(isAllowedOrigin(undefined, '127.0.0.1:8765'), true);
		assert.equal(isAllowedOrigin('http://127.0.0.1:8765', '127.0.0.1:8765'), true);
		assert.equal(isAllowedOrigin('https://LOCALHOST:8765', 'localhost:8765'), true);
		assert.equal(isAllowedOrigin('http://evil.example', '127.0.0.1:8765'), false);
		assert.equal(isAllowedOrigin('http://127.0.0.1:9999', '127.0.0.1:8765'), false);
		assert.equal(isAllowedOrigin('null', '127.0.0.1:8765'), false);
		assert.equal(isAllowedOrigin('vscode-webview://abc', '127.0.0.1:8765'), false);
		assert.equal(isAllowedOrigin('http://127.0.0.1:8765', undefined), false);
	});
});
