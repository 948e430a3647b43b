import assert from 'node:assert/strict';
import {
	chmodSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConnectionToken, type TokenFlags } from '../../../server/connection-token';
import { sign, verifySignature } from '../../../server/shared/sign';

const dir = () => mkdtempSync(join(tmpdir(), 'berth-token-'));
/** A token the agent accepts: 16 characters or more. */
const GOOD = 'A-b_9-long-enough';

/** resolveConnectionToken with its warnings collected. */
function resolve(flags: Omit<TokenFlags, 'warn'>): {
	token: ReturnType<typeof resolveConnectionToken>;
	warnings: string[];
} {
	const warnings: string[] = [];
	const token = resolveConnectionToken({ ...flags, warn: (message) => warnings.push(message) });
	return { token, warnings };
}

function mode(path: string): number {
	return statSync(path).mode & 0o777;
}

describe('connection token rules', () => {
	it('accepts letters, digits, - and _ only', () => {
		const d = dir();
		assert.deepEqual(resolveConnectionToken({ connectionToken: GOOD, configDir: d }), {
			type: 'mandatory',
			value: GOOD,
			source: 'flag',
		});
		for (const bad of ['', 'a b c d e f g h i', 'tok!en-long-enough', 'ü'.repeat(16)]) {
			assert.throws(() => resolveConnectionToken({ connectionToken: bad, configDir: d }), {
				code: 'BERTH_ERR_TOKEN',
			});
		}
	});

	it('reads a token file, refusing one with two trailing newlines', () => {
		const d = dir();
		writeFileSync(join(d, 'ok'), `${GOOD}\r\n`);
		writeFileSync(join(d, 'bad'), `${GOOD}\n\n`);
		assert.equal(
			resolveConnectionToken({ connectionTokenFile: join(d, 'ok'), configDir: d }).type,
			'mandatory',
		);
		assert.throws(() => resolveConnectionToken({ connectionTokenFile: join(d, 'bad'), configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
		});
		assert.throws(
			() => resolveConnectionToken({ connectionTokenFile: join(d, 'missing'), configDir: d }),
			/ENOENT/,
		);
	});

	it('refuses an agent token shorter than 16 characters, from the flag, a file or the store, saying why', () => {
		const d = dir();
		const fifteen = 'a'.repeat(15);
		writeFileSync(join(d, 'short'), fifteen + '\n', { mode: 0o600 });
		mkdirSync(join(d, 'store'));
		writeFileSync(join(d, 'store', 'token'), fifteen + '\n', { mode: 0o600 });
		for (const flags of [
			{ connectionToken: fifteen, configDir: d },
			{ connectionTokenFile: join(d, 'short'), configDir: d },
			{ configDir: join(d, 'store') },
		]) {
			assert.throws(() => resolveConnectionToken(flags), {
				code: 'BERTH_ERR_TOKEN',
				message: /15 characters.*at least 16.*guessed/,
			});
		}
		assert.equal(resolve({ connectionToken: fifteen + 'a', configDir: d }).token.type, 'mandatory');
	});

	it('warns about a --connection-token-file that others can read, or that is a link, and still uses it', () => {
		const d = dir();
		const loose = join(d, 'loose');
		writeFileSync(loose, GOOD + '\n');
		chmodSync(loose, 0o644);
		const first = resolve({ connectionTokenFile: loose, configDir: d });
		assert.equal(first.token.type === 'mandatory' && first.token.value, GOOD);
		assert.equal(first.warnings.length, 1, first.warnings.join('\n'));
		assert.match(first.warnings[0]!, /open to other users \(mode 0644\).*may have leaked.*chmod 600/);
		assert.equal(mode(loose), 0o644, "the user's own file keeps its mode");
		const link = join(d, 'link');
		symlinkSync(loose, link);
		chmodSync(loose, 0o600);
		const second = resolve({ connectionTokenFile: link, configDir: d });
		assert.equal(second.token.type === 'mandatory' && second.token.value, GOOD);
		assert.deepEqual(second.warnings.length, 1, second.warnings.join('\n'));
		assert.match(second.warnings[0]!, /symbolic link to .*loose/);
		const tight = join(d, 'tight');
		writeFileSync(tight, GOOD, { mode: 0o600 });
		assert.deepEqual(resolve({ connectionTokenFile: tight, configDir: d }).warnings, []);
	});

	it('refuses conflicting flags with a usage error naming them', () => {
		const d = dir();
		assert.throws(
			() => resolveConnectionToken({ withoutConnectionToken: true, connectionToken: 'a', configDir: d }),
			{
				code: 'BERTH_ERR_USAGE',
				message: /--without-connection-token/,
			},
		);
		assert.throws(
			() => resolveConnectionToken({ connectionToken: 'a', connectionTokenFile: 'f', configDir: d }),
			{
				code: 'BERTH_ERR_USAGE',
				message: /--connection-token-file/,
			},
		);
		assert.deepEqual(resolveConnectionToken({ withoutConnectionToken: true, configDir: d }), {
			type: 'none',
		});
	});

	it('generates a UUID once, stores it mode 0600 in a 0700 folder, and reuses it without a warning', () => {
		const d = join(dir(), 'berth');
		const first = resolveConnectionToken({ configDir: d });
		assert.equal(first.type, 'mandatory');
		assert.match(first.type === 'mandatory' ? first.value : '', /^[0-9a-f-]{36}$/);
		assert.equal(statSync(join(d, 'token')).mode & 0o777, 0o600);
		assert.equal(statSync(d).mode & 0o777, 0o700);
		const { token: second, warnings } = resolve({ configDir: d });
		assert.deepEqual(warnings, []);
		assert.equal(second.type === 'mandatory' && second.value, first.type === 'mandatory' && first.value);
		assert.equal(second.type === 'mandatory' && second.source, 'stored');
		assert.equal(
			readFileSync(join(d, 'token'), 'utf8').trim(),
			first.type === 'mandatory' ? first.value : '',
		);
	});
});

describe('the stored token', () => {
	/** A config folder holding `contents` as its token, mode 0600. */
	function store(contents: string): string {
		const d = join(dir(), 'berth');
		mkdirSync(d, { mode: 0o700 });
		writeFileSync(join(d, 'token'), contents, { mode: 0o600 });
		return d;
	}

	it('is refused when it is a symbolic link, and what it points to keeps its mode and contents', () => {
		const outside = join(dir(), 'other-file');
		writeFileSync(outside, GOOD + '\n');
		chmodSync(outside, 0o644);
		const d = join(dir(), 'berth');
		mkdirSync(d, { mode: 0o700 });
		symlinkSync(outside, join(d, 'token'));
		assert.throws(() => resolve({ configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
			message: /stored token .*token is a symbolic link.*does not follow it/,
		});
		assert.equal(mode(outside), 0o644);
		assert.equal(readFileSync(outside, 'utf8'), GOOD + '\n');
	});

	it('is refused when it is a dangling link or not a file', () => {
		const d = join(dir(), 'berth');
		mkdirSync(d, { mode: 0o700 });
		symlinkSync(join(d, 'nowhere'), join(d, 'token'));
		assert.throws(() => resolve({ configDir: d }), { code: 'BERTH_ERR_TOKEN', message: /symbolic link/ });
		const e = join(dir(), 'berth');
		mkdirSync(join(e, 'token'), { recursive: true });
		assert.throws(() => resolve({ configDir: e }), {
			code: 'BERTH_ERR_TOKEN',
			message: /not a regular file/,
		});
	});

	it('warns that a token others could read may have leaked, tightens it to 0600, and reuses it', () => {
		const d = store(GOOD + '\n');
		chmodSync(join(d, 'token'), 0o644);
		const { token, warnings } = resolve({ configDir: d });
		assert.equal(token.type === 'mandatory' && token.value, GOOD);
		assert.equal(token.type === 'mandatory' && token.source, 'stored');
		assert.equal(warnings.length, 1, warnings.join('\n'));
		assert.match(
			warnings[0]!,
			/stored token .* open to other users \(mode 0644\): the token may have leaked/,
		);
		assert.equal(mode(join(d, 'token')), 0o600);
	});

	it('warns when its folder can be written by others, who could replace it', () => {
		const d = store(GOOD);
		chmodSync(d, 0o777);
		const { warnings } = resolve({ configDir: d });
		assert.equal(warnings.length, 1, warnings.join('\n'));
		assert.match(warnings[0]!, /written by other users \(mode 0777\).*chmod 700/);
		chmodSync(d, 0o755); // readable by others is fine: the file's own mode guards the token
		assert.deepEqual(resolve({ configDir: d }).warnings, []);
	});

	for (const contents of ['my token\n', 'short\n', '', `${GOOD}\n\n`]) {
		it(`is an error, never replaced, when it holds ${JSON.stringify(contents)}`, () => {
			const d = store(contents);
			assert.throws(() => resolve({ configDir: d }), {
				code: 'BERTH_ERR_TOKEN',
				message: /stored token .* is not a valid connection token: .*fix it, or delete it/,
			});
			assert.equal(readFileSync(join(d, 'token'), 'utf8'), contents);
		});
	}
});

describe('signatures', () => {
	it('are base64url(HMAC-SHA256(key = token, message = data))', () => {
		// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
		const expected = Buffer.from(
			'5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
			'hex',
		).toString('base64url');
		assert.equal(sign('Jefe', 'what do ya want for nothing?'), expected);
		assert.ok(verifySignature('Jefe', 'what do ya want for nothing?', expected));
		assert.ok(!verifySignature('Jefe', 'what do ya want for nothing?', expected.slice(1)));
		assert.ok(!verifySignature('jefe', 'what do ya want for nothing?', expected));
	});
});
