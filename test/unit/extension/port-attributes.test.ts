import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	parseMatcher,
	parsePortsAttributes,
	parseOtherPortsAttributes,
	resolvePortAttributes,
	type PortCandidate,
} from '../../../extension/port-attributes';

describe('berth.portsAttributes keys', () => {
	const rows: [string, unknown][] = [
		['3000', { type: 'port', port: 3000 }],
		[' 8080 ', { type: 'port', port: 8080 }],
		['40000-55000', { type: 'range', from: 40000, to: 55000 }],
		['1 - 2', { type: 'range', from: 1, to: 2 }],
		['localhost:3000', { type: 'hostPort', host: 'localhost', port: 3000 }],
		['127.0.0.1:5432', { type: 'hostPort', host: '127.0.0.1', port: 5432 }],
		['[::1]:9229', { type: 'hostPort', host: '::1', port: 9229 }],
	];
	for (const [key, expected] of rows) {
		it(`reads ${JSON.stringify(key)}`, () => assert.deepEqual(parseMatcher(key), expected));
	}

	it('reads anything else as a regular expression on the command line', () => {
		const matcher = parseMatcher('webpack|vite');
		assert.equal(typeof matcher, 'object');
		assert.equal((matcher as { type: string }).type, 'command');
	});

	for (const bad of ['0', '70000', '9000-8000', '1-70000', 'localhost:99999', '(unclosed']) {
		it(`refuses ${JSON.stringify(bad)} with a reason`, () =>
			assert.equal(typeof parseMatcher(bad), 'string'));
	}
});

describe('parsePortsAttributes', () => {
	it('keeps valid rules and reports the rest', () => {
		const { rules, problems } = parsePortsAttributes({
			'3000': { label: 'Web', onAutoForward: 'openBrowser' },
			'(bad': { label: 'x' },
			'4000': 'not an object',
			'5000': { onAutoForward: 'explode' },
		});
		assert.deepEqual(
			rules.map((r) => r.key),
			['3000', '5000'],
		);
		assert.equal(rules[1]!.onAutoForward, undefined);
		assert.equal(problems.length, 3);
	});

	it('treats a missing setting as no rules', () => {
		assert.deepEqual(parsePortsAttributes(undefined), { rules: [], problems: [] });
	});

	it('refuses a setting that is not an object', () => {
		assert.equal(parsePortsAttributes([1, 2]).problems.length, 1);
	});
});

describe('resolvePortAttributes', () => {
	const { rules } = parsePortsAttributes({
		'node .*server\\.js': { label: 'Node server', onAutoForward: 'silent' },
		'3000-3999': { label: 'Dev range', onAutoForward: 'ignore' },
		'3000-3100': { label: 'Narrow range' },
		'3000': { label: 'Web app' },
		'localhost:3000': { onAutoForward: 'openBrowser' },
		'9443': { protocol: 'https' },
	});
	const resolve = (candidate: PortCandidate) => resolvePortAttributes(rules, candidate);

	it('takes each property from the most specific matching key', () => {
		assert.deepEqual(resolve({ host: '127.0.0.1', port: 3000 }), {
			label: 'Web app',
			onAutoForward: 'openBrowser',
			protocol: 'http',
		});
	});

	it('treats localhost, 127.0.0.1 and ::1 as the same host', () => {
		assert.equal(resolve({ host: '::1', port: 3000 }).onAutoForward, 'openBrowser');
		assert.equal(resolve({ host: '0.0.0.0', port: 3000 }).onAutoForward, 'ignore');
	});

	it('prefers the narrower of two ranges', () => {
		assert.equal(resolve({ host: 'localhost', port: 3050 }).label, 'Narrow range');
		assert.equal(resolve({ host: 'localhost', port: 3500 }).label, 'Dev range');
	});

	it('matches a regular expression against the process command line', () => {
		assert.deepEqual(resolve({ host: 'localhost', port: 8000, command: '/usr/bin/node ./server.js' }), {
			label: 'Node server',
			onAutoForward: 'silent',
			protocol: 'http',
		});
		assert.equal(resolve({ host: 'localhost', port: 8000 }).label, undefined);
	});

	it('defaults to notify, and https for 443, 8443 and configured ports', () => {
		assert.deepEqual(resolve({ host: 'localhost', port: 8000 }), {
			onAutoForward: 'notify',
			protocol: 'http',
		});
		assert.equal(resolve({ host: 'localhost', port: 8443 }).protocol, 'https');
		assert.equal(resolve({ host: 'localhost', port: 9443 }).protocol, 'https');
	});

	it('gives a port that no key matches otherPortsAttributes, and only such a port', () => {
		const other = { onAutoForward: 'ignore' as const, protocol: 'https' as const };
		assert.deepEqual(resolvePortAttributes(rules, { host: 'localhost', port: 8000 }, other), {
			onAutoForward: 'ignore',
			protocol: 'https',
		});
		assert.equal(
			resolvePortAttributes(rules, { host: 'localhost', port: 3000 }, other).onAutoForward,
			'openBrowser',
		);
		assert.equal(
			resolvePortAttributes(rules, { host: 'localhost', port: 3050 }, other).onAutoForward,
			'ignore',
		);
		assert.equal(resolvePortAttributes(rules, { host: 'localhost', port: 3050 }, other).protocol, 'http');
	});
});

describe('parseOtherPortsAttributes', () => {
	it('keeps known values and names unknown ones', () => {
		assert.deepEqual(parseOtherPortsAttributes({ onAutoForward: 'silent', protocol: 'https' }), {
			attributes: { onAutoForward: 'silent', protocol: 'https' },
			problems: [],
		});
		const parsed = parseOtherPortsAttributes({ onAutoForward: 'never', protocol: 'ftp' });
		assert.deepEqual(parsed.attributes, {});
		assert.equal(parsed.problems.length, 2);
		assert.deepEqual(parseOtherPortsAttributes(undefined), { attributes: {}, problems: [] });
		assert.equal(parseOtherPortsAttributes('ignore').problems.length, 1);
	});
});
