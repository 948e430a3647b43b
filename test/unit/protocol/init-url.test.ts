import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	formatInitUrl,
	MAX_INIT_URL_CHARS,
	parseInitArgument,
	parseInitUrl,
	type InitUrl,
	type InitUrlPart,
} from '../../../protocol/init-url';

/** A signed user token's shape (header.payload.signature); its contents do not matter here. */
const JWT =
	'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const FINGERPRINT = `SHA256:${'A'.repeat(42)}w`;

/** An init URL whose configuration is `json`, as text, base64url. */
const withJson = (json: string, origin = 'https://agent.example') =>
	`${origin}/p/${Buffer.from(json, 'utf8').toString('base64url')}`;
const withConfig = (config: unknown, origin?: string) => withJson(JSON.stringify(config), origin);

describe('parseInitUrl: what it accepts', () => {
	const rows: [string, string, InitUrl][] = [
		[
			'https → wss, default port',
			withConfig({ t: JWT, n: 'alice-' }),
			{ agentUrl: 'wss://agent.example', token: JWT, sessionPrefix: 'alice-' },
		],
		[
			'http → ws, port kept',
			withConfig({ t: JWT }, 'http://127.0.0.1:8765'),
			{ agentUrl: 'ws://127.0.0.1:8765', token: JWT, sessionPrefix: '' },
		],
		[
			'an IPv6 host',
			withConfig({ t: JWT }, 'https://[::1]:9443'),
			{ agentUrl: 'wss://[::1]:9443', token: JWT, sessionPrefix: '' },
		],
		[
			'the scheme and host in capitals',
			withConfig({ t: JWT }, 'HTTPS://Agent.Example:443'),
			{ agentUrl: 'wss://agent.example', token: JWT, sessionPrefix: '' },
		],
		[
			'the agent key fingerprint (k)',
			withConfig({ t: JWT, n: 'bob-', k: FINGERPRINT }),
			{ agentUrl: 'wss://agent.example', token: JWT, sessionPrefix: 'bob-', agentKey: FINGERPRINT },
		],
		[
			'a connection token as t (an owner saving their own login)',
			withConfig({ t: 'A-b_9-long-enough-token' }),
			{ agentUrl: 'wss://agent.example', token: 'A-b_9-long-enough-token', sessionPrefix: '' },
		],
		[
			'members it does not know (a later agent may add some)',
			withConfig({ t: JWT, x: 1, future: { a: [1] } }),
			{ agentUrl: 'wss://agent.example', token: JWT, sessionPrefix: '' },
		],
	];
	for (const [what, url, expected] of rows) {
		it(what, () => assert.deepEqual(parseInitUrl(url), { ok: true, value: expected }));
	}
});

describe('parseInitUrl: what it refuses, naming the part', () => {
	const rows: [string, string, InitUrlPart][] = [
		['too long', withConfig({ t: JWT, n: 'x'.repeat(MAX_INIT_URL_CHARS) }), 'length'],
		['not a URL', 'https://', 'url'],
		['not a URL at all', 'https:// spaces in host/p/abc', 'url'],
		['ftp', withConfig({ t: JWT }, 'ftp://agent.example'), 'scheme'],
		['ws (an agent URL, not an init URL)', withConfig({ t: JWT }, 'ws://agent.example'), 'scheme'],
		['a user name and password', withConfig({ t: JWT }, 'https://u:p@agent.example'), 'url'],
		['a query', withConfig({ t: JWT }) + '?x=1', 'url'],
		['a fragment', withConfig({ t: JWT }) + '#top', 'url'],
		['another path', 'https://agent.example/q/eyJ0IjoiYSJ9', 'path'],
		['nothing after /p/', 'https://agent.example/p/', 'path'],
		['a further segment', withConfig({ t: JWT }) + '/more', 'path'],
		['a path prefix before /p/', 'https://agent.example/berth/p/eyJ0IjoiYSJ9', 'path'],
		['standard base64 (+)', 'https://agent.example/p/ab+c', 'base64url'],
		['padding', 'https://agent.example/p/eyJ0IjoiYSJ9=', 'base64url'],
		['a length no encoding has', 'https://agent.example/p/abcde', 'base64url'],
		['not UTF-8', `https://agent.example/p/${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}`, 'json'],
		['not JSON', withJson('{t: nope'), 'json'],
		['JSON, not an object', withJson('["t"]'), 'json'],
		['JSON null', withJson('null'), 'json'],
		['no t', withConfig({ n: 'alice-' }), 't'],
		['t not a string', withConfig({ t: 42 }), 't'],
		['t with two parts', withConfig({ t: 'eyJh.eyJz' }), 't'],
		['t with four parts', withConfig({ t: `${JWT}.more` }), 't'],
		['t with an empty payload', withConfig({ t: 'eyJh..c2ln' }), 't'],
		['t with standard base64', withConfig({ t: 'eyJ+.eyJz.c2ln' }), 't'],
		['t empty', withConfig({ t: '' }), 't'],
		['n not a string', withConfig({ t: JWT, n: 7 }), 'n'],
		['n too long', withConfig({ t: JWT, n: 'x'.repeat(65) }), 'n'],
		['n with a control character', withConfig({ t: JWT, n: 'a\u001b[2J' }), 'n'],
		['k not a fingerprint', withConfig({ t: JWT, k: 'MD5:abc' }), 'k'],
		['k one character short', withConfig({ t: JWT, k: FINGERPRINT.slice(0, -1) }), 'k'],
	];
	for (const [what, url, part] of rows) {
		it(`${what}: ${part}`, () => {
			const result = parseInitUrl(url);
			assert.equal(result.ok, false, JSON.stringify(result));
			if (!result.ok) {
				assert.equal(result.part, part, result.message);
				assert.ok(!result.message.includes(JWT), 'the message does not repeat the token');
			}
		});
	}

	it('says which part in words', () => {
		const messages = (
			[
				['https://agent.example/q/x', /path/],
				['https://agent.example/p/a+b', /base64url/],
				[withJson('nope'), /JSON/],
				[withConfig({ n: 'x' }), /no t \(the token\)/],
				[withConfig({ t: 'a.b' }), /t is not a token.*three base64url parts/],
				[withConfig({ t: JWT, k: 'x' }), /k \(the agent key's fingerprint\)/],
			] as const
		).map(([url, pattern]) => {
			const result = parseInitUrl(url);
			assert.ok(!result.ok);
			assert.match(result.message, pattern);
			return result.message;
		});
		assert.equal(new Set(messages).size, messages.length, 'each part has its own message');
	});
});

describe('formatInitUrl', () => {
	it('round-trips through parseInitUrl', () => {
		for (const config of [
			{ token: JWT, sessionPrefix: '' },
			{ token: JWT, sessionPrefix: 'ünïcode-' },
			{ token: 'A-b_9-long-enough-token', sessionPrefix: 'alice-', agentKey: FINGERPRINT },
		]) {
			const url = formatInitUrl('https://agent.example:8443', config);
			assert.match(url, /^https:\/\/agent\.example:8443\/p\/[A-Za-z0-9_-]+$/);
			assert.deepEqual(parseInitUrl(url), {
				ok: true,
				value: { ...config, agentUrl: 'wss://agent.example:8443' },
			});
		}
	});

	it('takes an agent URL as its origin (wss → https, ws → http) and drops a trailing slash', () => {
		const config = { token: JWT, sessionPrefix: '' };
		assert.ok(formatInitUrl('wss://a.example/', config).startsWith('https://a.example/p/'));
		assert.ok(formatInitUrl('ws://127.0.0.1:8765', config).startsWith('http://127.0.0.1:8765/p/'));
	});

	it('writes the seed`s JSON members: t, and n only when there is a prefix', () => {
		const url = formatInitUrl('https://a.example', { token: JWT, sessionPrefix: 'm-' });
		const json = Buffer.from(url.slice('https://a.example/p/'.length), 'base64url').toString('utf8');
		assert.deepEqual(JSON.parse(json), { t: JWT, n: 'm-' });
		const bare = formatInitUrl('https://a.example', { token: JWT, sessionPrefix: '' });
		assert.deepEqual(JSON.parse(Buffer.from(bare.split('/p/')[1]!, 'base64url').toString('utf8')), {
			t: JWT,
		});
	});
});

describe('parseInitArgument (berth login --init)', () => {
	it('reads an init URL, surrounding blanks aside', () => {
		const result = parseInitArgument(`  ${withConfig({ t: JWT })}\n`);
		assert.ok(result.ok && result.value.kind === 'url');
		assert.equal(result.value.value.agentUrl, 'wss://agent.example');
	});

	it('takes a bare JWT, or a bare connection token', () => {
		assert.deepEqual(parseInitArgument(JWT), { ok: true, value: { kind: 'token', token: JWT } });
		assert.deepEqual(parseInitArgument('A-b_9-long-enough-token'), {
			ok: true,
			value: { kind: 'token', token: 'A-b_9-long-enough-token' },
		});
	});

	it('refuses what is neither, and passes an init URL`s own problem on', () => {
		for (const text of [
			'',
			'agent.example/p/eyJ0IjoiYSJ9',
			'not a token',
			'a.b',
			'x'.repeat(MAX_INIT_URL_CHARS + 1),
		]) {
			const result = parseInitArgument(text);
			assert.ok(!result.ok, JSON.stringify(text.slice(0, 40)));
			assert.match(result.message, /neither an init URL .* nor a token/);
		}
		const bad = parseInitArgument('https://agent.example/p/a+b');
		assert.ok(!bad.ok);
		assert.equal(bad.part, 'base64url');
	});
});
