import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectHostFor, formatHostPort, parseForwardInput } from '../../../extension/ports/forward-input';

describe('Forward a Port input', () => {
	const rows: [string, { host: string; port: number }][] = [
		['3000', { host: 'localhost', port: 3000 }],
		[' 8080 ', { host: 'localhost', port: 8080 }],
		['db:5432', { host: 'db', port: 5432 }],
		['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
		['my-host.internal:65535', { host: 'my-host.internal', port: 65535 }],
		['[::1]:9229', { host: '::1', port: 9229 }],
	];
	for (const [input, expected] of rows) {
		it(`reads ${JSON.stringify(input)}`, () => assert.deepEqual(parseForwardInput(input), expected));
	}
	for (const bad of ['', '0', '65536', 'db:', ':80', 'db:0', 'a b:80', 'http://x:80', '::1:80']) {
		it(`explains what is wrong with ${JSON.stringify(bad)}`, () => {
			const result = parseForwardInput(bad);
			assert.equal(typeof result, 'string');
			assert.match(result as string, /port/);
		});
	}
});

describe('formatHostPort and connectHostFor', () => {
	it('brackets IPv6 hosts', () => {
		assert.equal(formatHostPort('::1', 80), '[::1]:80');
		assert.equal(formatHostPort('db', 5432), 'db:5432');
	});

	it('reaches all-interfaces listeners on loopback', () => {
		assert.equal(connectHostFor('0.0.0.0'), '127.0.0.1');
		assert.equal(connectHostFor('::'), '::1');
		assert.equal(connectHostFor('10.0.0.5'), '10.0.0.5');
	});
});
