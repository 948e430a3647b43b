import { randomInt } from 'node:crypto';

/**
 * The code a person reads off a device and types into the agent's page (RFC 8628 §6.1):
 *
 *     ABC-234       six characters from USER_CODE_ALPHABET, shown in two groups of three
 *
 * The alphabet leaves out the characters people confuse (0/O, 1/I/L): 31 characters, so a code
 * is one of 31^6 ≈ 887 million (29.7 bits). Wrong guesses are throttled per address and a code
 * lives 10 minutes, which keeps guessing out of reach. What the user types is read forgivingly:
 * case, spaces and dashes do not matter.
 */

/** Upper-case letters without I, L, O; digits without 0 and 1. */
export const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/** Characters in a code, without the dash. */
export const USER_CODE_LENGTH = 6;
/** Characters per group when shown (`ABC-234`). */
const USER_CODE_GROUP = 3;
/** The longest input read as a code: room for spaces around it, no more. */
const MAX_USER_CODE_INPUT_CHARS = 32;

/** A new random code, in its canonical form (`ABC-234`). `pick(n)` returns an integer in [0, n). */
export function newUserCode(pick: (n: number) => number = randomInt): string {
	let code = '';
	for (let i = 0; i < USER_CODE_LENGTH; i++) {
		code += USER_CODE_ALPHABET[pick(USER_CODE_ALPHABET.length)];
	}
	return formatUserCode(code);
}

/** `ABC234` as people read it: `ABC-234`. */
export function formatUserCode(bare: string): string {
	return `${bare.slice(0, USER_CODE_GROUP)}-${bare.slice(USER_CODE_GROUP)}`;
}

/**
 * What a person typed, as a canonical code (`abc 234`, `ABC-234`, ` abc-234 ` → `ABC-234`), or
 * undefined when it cannot be one (wrong length, a character outside the alphabet).
 */
export function normalizeUserCode(input: string): string | undefined {
	if (input.length > MAX_USER_CODE_INPUT_CHARS) {
		return undefined;
	}
	const bare = input.toUpperCase().replace(/[\s-]/g, '');
	if (bare.length !== USER_CODE_LENGTH || [...bare].some((c) => !USER_CODE_ALPHABET.includes(c))) {
		return undefined;
	}
	return formatUserCode(bare);
}
