import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	readInitUrlInput,
	validateInitUrlInput,
	type InitUrlLogin,
} from '../../../extension/agent/init-url-input';
import { formatInitUrl } from '../../../protocol/init-url';

/** A signed user token's shape (header.payload.signature); its contents do not matter here. */
const JWT =
	'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const FINGERPRINT = `SHA256:${'A'.repeat(42)}w`;

const withConfig = (config: unknown, origin = 'https://agent.example:8765') =>
	`${origin}/p/${Buffer.from(JSON.stringify(config), 'utf8').toString('base64url')}`;

describe('Connect with Init URL: what the box accepts', () => {
	const rows: [string, string, Omit<InitUrlLogin, 'ok'>][] = [
		[
			'an init URL with a pin and a prefix (wss: the agent speaks TLS)',
			formatInitUrl('https://agent.example:8765', {
				token: JWT,
				sessionPrefix: 'alice-',
				agentKey: FINGERPRINT,
			}),
			{ agentId: 'wss://agent.example:8765', token: JWT, sessionPrefix: 'alice-', agentKey: FINGERPRINT },
		],
		[
			'an http init URL, with spaces around it (pasted)',
			`  ${withConfig({ t: JWT }, 'http://127.0.0.1:9000')}\n`,
			{ agentId: 'ws://127.0.0.1:9000', token: JWT, sessionPrefix: '' },
		],
		[
			"an owner's init URL with a connection token",
			withConfig({ t: 'a'.repeat(32) }),
			{ agentId: 'wss://agent.example:8765', token: 'a'.repeat(32), sessionPrefix: '' },
		],
	];
	for (const [what, text, expected] of rows) {
		it(`reads ${what}`, () => {
			assert.deepEqual(readInitUrlInput(text), { ok: true, ...expected });
			assert.equal(validateInitUrlInput(text), undefined);
		});
	}
});

describe('Connect with Init URL: what the box says of the wrong part', () => {
	const rows: [string, string, RegExp][] = [
		[
			'nothing yet',
			'   ',
			/^Paste the init URL the agent's owner gave you \(https:\/\/HOST:PORT\/p\/eyJ0Ijoi…\)\.$/,
		],
		[
			'a bare token',
			JWT,
			/^This is a token, not an init URL: paste the whole init URL \(it names the agent too\), or use Connect to Agent\.\.\./,
		],
		[
			'not a URL',
			'agent.example/p/abc',
			/^The init URL is not a URL \(expected https:\/\/HOST\[:PORT\]\/p\/\.\.\.\)\.$/,
		],
		['another scheme', withConfig({ t: JWT }, 'ftp://agent.example'), /^The init URL's scheme is ftp:/],
		['the wrong path', 'https://agent.example:8765/x/abc', /^The init URL's path is not \/p\//],
		['a query', `${withConfig({ t: JWT })}?x=1`, /query \(\?\) or fragment/],
		[
			'a payload that is not base64url',
			'https://agent.example/p/a+b',
			/^The part after \/p\/ is not base64url/,
		],
		[
			'a payload that is not JSON',
			`https://agent.example/p/${Buffer.from('{t:').toString('base64url')}`,
			/does not decode to JSON/,
		],
		['no token', withConfig({ n: 'alice-' }), /^The init URL's configuration has no t \(the token\)\.$/],
		['a token of the wrong shape', withConfig({ t: 'a b' }), /^The init URL's t is not a token/],
		['a bad prefix', withConfig({ t: JWT, n: 'a\u0007' }), /^The init URL's n \(the session-name prefix\)/],
		[
			'a bad pin',
			withConfig({ t: JWT, k: 'SHA256:short' }),
			/^The init URL's k \(the agent key's fingerprint\)/,
		],
		[
			'too long',
			`https://agent.example/p/${'A'.repeat(9000)}`,
			/^The init URL has \d+ characters, more than 8192/,
		],
	];
	for (const [what, text, message] of rows) {
		it(`names ${what}`, () => {
			const result = readInitUrlInput(text);
			assert.equal(result.ok, false);
			assert.match(validateInitUrlInput(text)!, message);
			assert.ok(!validateInitUrlInput(text)!.includes(JWT), 'the token is never repeated');
		});
	}
});
