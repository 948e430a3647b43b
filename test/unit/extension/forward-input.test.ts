import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	connectHostFor,
	formatHostPort,
	isSameTarget,
	parseForwardInput,
	parsePortInput,
	parseTargetInput,
} from '../../../extension/ports/forward-input';

describe('Forward a Port input', () => {
	const rows: [string, { host: string; port: number; localPort?: number }][] = [
		['3000', { host: 'localhost', port: 3000 }],
		[' 8080 ', { host: 'localhost', port: 8080 }],
		['db:5432', { host: 'db', port: 5432 }],
		['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
		['my-host.internal:65535', { host: 'my-host.internal', port: 65535 }],
		['[::1]:9229', { host: '::1', port: 9229 }],
		['8080:3000', { localPort: 8080, host: 'localhost', port: 3000 }],
		['8080:db:5432', { localPort: 8080, host: 'db', port: 5432 }],
		['8080:127.0.0.1:3000', { localPort: 8080, host: '127.0.0.1', port: 3000 }],
		['8080:[::1]:3000', { localPort: 8080, host: '::1', port: 3000 }],
	];
	for (const [input, expected] of rows) {
		it(`reads ${JSON.stringify(input)}`, () => assert.deepEqual(parseForwardInput(input), expected));
	}
	const bad: [string, RegExp][] = [
		['', /^Enter a port/],
		['0', /^0 is not a port \(1-65535\)/],
		['65536', /^65536 is not a port/],
		['db:', /is not a port or host:port/],
		[':80', /is not a port or host:port/],
		['db:0', /^0 is not a port/],
		['a b:80', /is not a port or host:port/],
		['http://x:80', /is not a port or host:port/],
		['::1:80', /is not a port or host:port/],
		['70000:3000', /^70000 is not a port/],
		['8080:0', /^0 is not a port/],
		['8080:', /is not a port or host:port/],
		['8080:db:', /is not a port or host:port/],
	];
	for (const [input, message] of bad) {
		it(`explains what is wrong with ${JSON.stringify(input)}`, () => {
			const result = parseForwardInput(input);
			assert.equal(typeof result, 'string');
			assert.match(result as string, message);
			assert.match(result as string, /8080:3000/, 'the usage shows the local:remote form');
		});
	}
});

describe('the reverse forward and local port inputs', () => {
	it('reads a target alone, without a local port', () => {
		assert.deepEqual(parseTargetInput('3000'), { host: 'localhost', port: 3000 });
		assert.deepEqual(parseTargetInput('127.0.0.1:9000'), { host: '127.0.0.1', port: 9000 });
		assert.match(parseTargetInput('8080:3000') as string, /is not a port or host:port/);
		assert.match(parseTargetInput('') as string, /^Enter a port/);
	});

	it('reads a port number alone', () => {
		assert.equal(parsePortInput(' 8080 '), 8080);
		assert.match(parsePortInput('0') as string, /1-65535/);
		assert.match(parsePortInput('db:1') as string, /^Enter a port number/);
	});
});

describe('isSameTarget', () => {
	it('treats the loopback spellings as one host, and nothing else', () => {
		assert.equal(isSameTarget({ host: 'localhost', port: 3000 }, { host: '127.0.0.1', port: 3000 }), true);
		assert.equal(isSameTarget({ host: '::1', port: 3000 }, { host: 'LOCALHOST', port: 3000 }), true);
		assert.equal(isSameTarget({ host: 'db', port: 3000 }, { host: 'db', port: 3000 }), true);
		assert.equal(isSameTarget({ host: 'localhost', port: 3000 }, { host: '127.0.0.1', port: 3001 }), false);
		assert.equal(isSameTarget({ host: 'db', port: 3000 }, { host: 'localhost', port: 3000 }), false);
	});
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
