import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	mergeConfig,
	parseConfigHeader,
	parseDuration,
	parseProxyUsername,
	type ProxyConnectionConfig,
} from '../../../protocol/proxy-config';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
	const good: [string, number][] = [
		['90s', 90 * S],
		['15m', 15 * M],
		['48h', 48 * H],
		['2d', 2 * D],
		['1w', 7 * D],
		['2y', 2 * 365 * D],
		['12h_30m', 12 * H + 30 * M],
		['1d_1h_1m_1s', D + H + M + S],
		['24h', 24 * H],
		['1d', D],
	];
	for (const [text, ms] of good) {
		it(`reads ${text} as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
	}
	for (const text of [
		'',
		'what',
		'5',
		's',
		'5x',
		'-5s',
		'5 s',
		'1.5h',
		'0s',
		'12h__30m',
		'12h_',
		'_12h',
		'1'.repeat(70) + 's',
	]) {
		it(`refuses ${JSON.stringify(text.slice(0, 20))}`, () => assert.equal(parseDuration(text), undefined));
	}
});

describe('parseProxyUsername (seed 001 and the issue’s examples)', () => {
	const rows: { input: string; name: string; config: ProxyConnectionConfig; error?: RegExp }[] = [
		{ input: 'test', name: 'test', config: {} },
		{ input: '', name: '', config: {} },
		{ input: 'app-idle-5s', name: 'app', config: { idleMs: 5 * S } },
		{ input: 'app-foo-idle-5s', name: 'app', config: { idleMs: 5 * S } },
		{ input: 'app-ttl-12h_30m', name: 'app', config: { ttlMs: 12 * H + 30 * M } },
		{ input: 'app-via-box1', name: 'app', config: { via: 'box1' } },
		{
			input: 'app-via-box1-idle-90s-ttl-2d',
			name: 'app',
			config: { via: 'box1', idleMs: 90 * S, ttlMs: 2 * D },
		},
		{ input: 'app-idle-2s', name: 'app', config: { idleMs: 2 * S } },
		{ input: 'test-foo-bar-baz', name: 'test', config: {} },
		{ input: 'app-idle-1s-idle-3s', name: 'app', config: { idleMs: 3 * S } },
		{ input: 'app-idle-what', name: 'app', config: {}, error: /not a duration/ },
		{ input: 'app-idle', name: 'app', config: {}, error: /has no value/ },
		{ input: 'app-idle-', name: 'app', config: {}, error: /has no value/ },
		{ input: 'app-via-box1-idle-what', name: 'app', config: {}, error: /not a duration/ },
		{ input: 'app-via-b@x', name: 'app', config: {}, error: /not a provider name/ },
	];
	for (const row of rows) {
		it(`reads ${JSON.stringify(row.input)}`, () => {
			const user = parseProxyUsername(row.input);
			assert.equal(user.name, row.name);
			assert.deepEqual(user.config, row.config);
			if (row.error) {
				assert.match(user.error ?? '', row.error, 'a label that fails gives no config at all, and says why');
			} else {
				assert.equal(user.error, undefined);
			}
		});
	}
	it('reads at most 1 KiB of a username', () => {
		const user = parseProxyUsername('a' + '-x'.repeat(10_000) + '-idle-5s');
		assert.deepEqual(user.config, {}, 'the label past the bound is not read');
	});
});

describe('parseConfigHeader and the header winning over the username', () => {
	it('reads a form', () => {
		assert.deepEqual(parseConfigHeader('idle=30s&via=box1').config, { idleMs: 30 * S, via: 'box1' });
		assert.deepEqual(
			parseConfigHeader('ttl=1h+&unknown=1').error !== undefined,
			true,
			'"1h " is not a duration',
		);
		assert.deepEqual(parseConfigHeader('via=box%31').config, { via: 'box1' }, 'percent-encoded');
		assert.deepEqual(parseConfigHeader('').config, {});
		assert.match(parseConfigHeader('via=%E0%A4%A').error ?? '', /percent-encoding/);
	});
	it('prefers the header when both are given', () => {
		const fromUser = parseProxyUsername('app-idle-5s').config;
		const fromHeader = parseConfigHeader('idle=30s').config;
		assert.deepEqual(mergeConfig(fromUser, fromHeader), { idleMs: 30 * S });
		assert.deepEqual(mergeConfig(fromUser, undefined), { idleMs: 5 * S });
	});
});
