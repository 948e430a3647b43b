import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	formatLocalForwardSpec,
	parseDynamicForwardSpec,
	parseLocalForwardSpec,
} from '../../../server/client/forward-spec';

describe('-L [BIND:]LOCALPORT:HOST:PORT', () => {
	const rows: [string, { bind: string; localPort: number; host: string; port: number }][] = [
		['8080:localhost:80', { bind: '127.0.0.1', localPort: 8080, host: 'localhost', port: 80 }],
		['0.0.0.0:8080:db:5432', { bind: '0.0.0.0', localPort: 8080, host: 'db', port: 5432 }],
		['*:8080:db:5432', { bind: '0.0.0.0', localPort: 8080, host: 'db', port: 5432 }],
		[':8080:db:5432', { bind: '127.0.0.1', localPort: 8080, host: 'db', port: 5432 }],
		['[::1]:8080:[::1]:5432', { bind: '::1', localPort: 8080, host: '::1', port: 5432 }],
		['localhost:0:web:80', { bind: 'localhost', localPort: 0, host: 'web', port: 80 }],
		['8080:[fe80::1]:22', { bind: '127.0.0.1', localPort: 8080, host: 'fe80::1', port: 22 }],
	];
	for (const [input, expected] of rows) {
		it(`reads ${input}`, () => assert.deepEqual(parseLocalForwardSpec(input), expected));
	}

	const bad = [
		'8080',
		'8080:host',
		'a:b:c:d:e',
		'8080:host:0',
		'8080:host:70000',
		'99999:host:80',
		'x:host:80',
		'8080::80',
		'[::1:8080:h:1',
	];
	for (const input of bad) {
		it(`refuses ${JSON.stringify(input)} with a usage error`, () =>
			assert.throws(() => parseLocalForwardSpec(input), { code: 'BERTH_ERR_USAGE' }));
	}

	it('writes a spec back in ssh’s syntax', () => {
		assert.equal(formatLocalForwardSpec(parseLocalForwardSpec('[::1]:1:[::2]:3')), '[::1]:1:[::2]:3');
	});
});

describe('-D [BIND:]PORT', () => {
	const good: [string, { bind: string; port: number }][] = [
		['1080', { bind: '127.0.0.1', port: 1080 }],
		['0', { bind: '127.0.0.1', port: 0 }],
		['0.0.0.0:1080', { bind: '0.0.0.0', port: 1080 }],
		['*:1080', { bind: '0.0.0.0', port: 1080 }],
		['[::1]:1080', { bind: '::1', port: 1080 }],
		['localhost:9870', { bind: 'localhost', port: 9870 }],
		[':1080', { bind: '127.0.0.1', port: 1080 }],
	];
	for (const [text, spec] of good) {
		it(`reads ${text}`, () => assert.deepEqual(parseDynamicForwardSpec(text), spec));
	}
	for (const text of ['', 'a:b:c', '1080:', '65536', '-1', 'x', '[::1:1080', '1:2:3']) {
		it(`refuses ${JSON.stringify(text)}`, () =>
			assert.throws(() => parseDynamicForwardSpec(text), { code: 'BERTH_ERR_USAGE' }));
	}
});
