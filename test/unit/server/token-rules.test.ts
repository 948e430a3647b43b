import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	checkToken,
	MIN_AGENT_TOKEN_LENGTH,
	stripOneNewline,
	tokenProblem,
} from '../../../server/shared/token-rules';

describe('token rules', () => {
	it('strips exactly one trailing newline', () => {
		assert.equal(stripOneNewline('abc\n'), 'abc');
		assert.equal(stripOneNewline('abc\r\n'), 'abc');
		assert.equal(stripOneNewline('abc\n\n'), 'abc\n');
		assert.equal(stripOneNewline('abc'), 'abc');
	});

	const rows: [string, number, RegExp | undefined][] = [
		['', 1, /empty/],
		['a', 1, undefined],
		['A-b_9', 1, undefined],
		['a b', 1, /letters, digits, '-' and '_'/],
		['jwt.looking.thing', 1, /letters, digits/],
		['a'.repeat(15), MIN_AGENT_TOKEN_LENGTH, /15 characters.*at least 16.*cannot be guessed/],
		['a'.repeat(16), MIN_AGENT_TOKEN_LENGTH, undefined],
		['short!', MIN_AGENT_TOKEN_LENGTH, /letters, digits/], // the character rule is named first
		['3f2b8c1e-6a4d-4e0f-9b7a-1c2d3e4f5a6b', MIN_AGENT_TOKEN_LENGTH, undefined], // a generated UUID
	];
	for (const [token, minimum, problem] of rows) {
		it(`${JSON.stringify(token)} with a minimum of ${minimum}: ${problem ?? 'accepted'}`, () => {
			const found = tokenProblem(token, minimum);
			if (problem === undefined) {
				assert.equal(found, undefined);
				assert.equal(checkToken(token, 'it', minimum), token);
			} else {
				assert.match(found ?? '', problem);
				assert.throws(() => checkToken(token, 'the token in F', minimum, '. Do this'), {
					code: 'BERTH_ERR_TOKEN',
					message: new RegExp(`^the token in F is not a valid connection token: .*\\. Do this$`),
				});
			}
		});
	}

	it('asks agents for 16 characters at least (the minimum is a decision: change it here and in the docs)', () => {
		assert.equal(MIN_AGENT_TOKEN_LENGTH, 16);
	});
});
