import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isClientToken } from '../../../protocol/client-token';
import { MAX_USER_TOKEN_CHARS } from '../../../protocol/jwt-shape';

describe('isClientToken', () => {
	const rows: [string, boolean][] = [
		['A-b_9-long-enough', true], // a connection token
		['f47ac10b-58cc-4372-a567-0e02b2c3d479', true], // the generated kind
		['short', true], // length is the agent's to judge
		['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln', true], // a JWT
		['eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.', true], // alg none: the shape passes, the agent refuses it
		['', false],
		['has space', false],
		['a.b', false], // two parts
		['a.b.c.d', false], // four
		['.b.c', false], // an empty header
		['a..c', false], // an empty payload
		['a+b.c.d', false], // standard base64
		['a.b.c\n', false],
		[`a.${'b'.repeat(MAX_USER_TOKEN_CHARS)}.c`, false], // over the user token bound
	];
	for (const [token, ok] of rows) {
		it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(token.slice(0, 40))}`, () =>
			assert.equal(isClientToken(token), ok));
	}
});
