import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csrfMatches, isSameOrigin } from '../../../../server/http/web/csrf';

describe('CSRF checks', () => {
	it('accept the session token only, exactly', () => {
		const expected = 'f3W0zX8qTn2bL5pVd9sRkA1cYhJm4uEo6iGt7yNw0aB';
		const table: [string | null | undefined, boolean][] = [
			[expected, true],
			[expected.slice(0, -1), false],
			[expected + 'x', false],
			[expected.toLowerCase(), false],
			['', false],
			[null, false],
			[undefined, false],
		];
		for (const [presented, ok] of table) {
			assert.equal(csrfMatches(expected, presented), ok, String(presented));
		}
		assert.equal(csrfMatches('', ''), false, 'an empty token never matches, even an empty expectation');
	});

	it('accept a POST whose Origin, or else Referer, is the agent itself', () => {
		const own = 'http://127.0.0.1:8765';
		const table: [Record<string, string>, boolean, string][] = [
			[{ origin: 'http://127.0.0.1:8765' }, true, 'the same origin'],
			[{ origin: 'HTTP://127.0.0.1:8765' }, true, 'case does not matter'],
			[{ origin: 'http://127.0.0.1:8766' }, false, 'another port'],
			[{ origin: 'https://127.0.0.1:8765' }, false, 'another scheme'],
			[{ origin: 'http://localhost:8765' }, false, 'another host name'],
			[{ origin: 'null' }, false, 'an opaque origin'],
			[{ origin: 'null', referer: 'http://127.0.0.1:8765/tokens' }, false, 'Origin decides when present'],
			[{ referer: 'http://127.0.0.1:8765/tokens?x=1' }, true, 'a Referer on the agent'],
			[{ referer: 'http://evil.example/http://127.0.0.1:8765/' }, false, 'a Referer elsewhere'],
			[{ origin: 'not a url' }, false, 'garbage'],
			[{}, false, 'neither header'],
		];
		for (const [headers, ok, why] of table) {
			assert.equal(isSameOrigin(headers, own), ok, why);
		}
		assert.equal(
			isSameOrigin({ origin: 'https://agent.example' }, 'https://agent.example:443'),
			true,
			'default port',
		);
	});
});
