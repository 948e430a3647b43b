import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	formatUserCode,
	newUserCode,
	normalizeUserCode,
	USER_CODE_ALPHABET,
	USER_CODE_LENGTH,
} from '../../../../server/http/web/user-code';

describe('user codes', () => {
	it('use an alphabet without look-alike characters (0/O, 1/I/L) and without lowercase', () => {
		for (const c of '01OIL') {
			assert.ok(!USER_CODE_ALPHABET.includes(c), `${c} is in the alphabet`);
		}
		assert.match(USER_CODE_ALPHABET, /^[A-Z2-9]+$/);
		assert.equal(new Set(USER_CODE_ALPHABET).size, USER_CODE_ALPHABET.length, 'no character twice');
		assert.equal(USER_CODE_ALPHABET.length, 31);
	});

	it('are six characters shown as ABC-234, each drawn from the whole alphabet', () => {
		const picks = [0, 1, 2, 30, 29, 28];
		assert.equal(
			newUserCode(() => picks.shift()!),
			'ABC-987',
		);
		const seen = new Set<string>();
		for (let i = 0; i < 200; i++) {
			const code = newUserCode();
			assert.match(code, new RegExp(`^[${USER_CODE_ALPHABET}]{3}-[${USER_CODE_ALPHABET}]{3}$`));
			seen.add(code);
		}
		assert.ok(seen.size > 190, `random codes repeat too often (${seen.size} of 200 distinct)`);
		assert.equal(USER_CODE_LENGTH, 6);
	});

	it('read what a person types forgivingly, and refuse what cannot be a code', () => {
		const table: [string, string | undefined][] = [
			['ABC-234', 'ABC-234'],
			['abc-234', 'ABC-234'],
			['  abc 234 ', 'ABC-234'],
			['ABC234', 'ABC-234'],
			['a-b-c-2-3-4', 'ABC-234'],
			['ABC-23', undefined], // too short
			['ABC-2345', undefined], // too long
			['ABC-O23', undefined], // O is not in the alphabet
			['ABC-123', undefined], // nor 1
			['ABC_234', undefined],
			['', undefined],
			[' '.repeat(40) + 'ABC234', undefined], // over the input bound
			['ÄBC-234', undefined],
		];
		for (const [input, expected] of table) {
			assert.equal(normalizeUserCode(input), expected, JSON.stringify(input));
		}
		assert.equal(formatUserCode('XYZ789'), 'XYZ-789');
	});
});
