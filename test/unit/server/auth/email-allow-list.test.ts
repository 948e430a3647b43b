import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../../protocol/errors';
import { EmailAllowList } from '../../../../server/auth/email-allow-list';

describe('EmailAllowList (--allow-email)', () => {
	it('matches globs on the whole address, in any case', () => {
		const rows: [pattern: string, email: string, allowed: boolean][] = [
			['*@example.com', 'alice@example.com', true],
			['*@example.com', 'ALICE@Example.COM', true],
			['*@EXAMPLE.com', 'alice@example.com', true],
			['*@example.com', 'alice@example.com.evil.test', false],
			['*@example.com', 'alice@sub.example.com', false],
			['*@example.com', 'alice@notexample.com', false],
			['*@*.example.com', 'alice@sub.example.com', true],
			['*@*.example.com', 'alice@example.com', false],
			['alice@example.com', 'alice@example.com', true],
			['alice@example.com', 'malice@example.com', false],
			['a*e@example.com', 'alice@example.com', true],
			['a.b@example.com', 'axb@example.com', false], // '.' is literal
			// `*` never spans an `@`: a quoted local part cannot smuggle the domain in.
			['*@example.com', '"x@example.com"@evil.test', false],
			['*@example.com', 'x@evil.test@example.com', false],
			['*', 'anyone@anywhere.test', true],
			['*', 'not an address', false],
		];
		for (const [pattern, email, allowed] of rows) {
			assert.equal(EmailAllowList.parse([pattern]).allows(email), allowed, `${pattern} vs ${email}`);
		}
	});

	it('allows what any pattern allows, and nobody without patterns', () => {
		const list = EmailAllowList.parse(['*@example.com', 'bob@other.test']);
		assert.ok(list.allows('bob@other.test'));
		assert.ok(list.allows('carol@example.com'));
		assert.ok(!list.allows('carol@other.test'));
		assert.ok(!list.allowsEveryone);
		const empty = EmailAllowList.parse([]);
		assert.ok(empty.isEmpty);
		assert.ok(!empty.allows('alice@example.com'));
		assert.ok(EmailAllowList.parse(['*@example.com', '*']).allowsEveryone);
	});

	it('refuses patterns that are not LOCAL@DOMAIN or *, naming them', () => {
		for (const pattern of [
			'example.com',
			'@example.com',
			'alice@',
			'a@b@c',
			'a b@example.com',
			'**',
			'a@\u0000',
			'x'.repeat(250) + '@e.com',
		]) {
			assert.throws(
				() => EmailAllowList.parse([pattern]),
				(error) =>
					error instanceof BerthError &&
					error.code === 'BERTH_ERR_USAGE' &&
					error.message.includes('--allow-email') &&
					error.message.includes("'*@example.com'"),
				JSON.stringify(pattern),
			);
		}
	});
});
