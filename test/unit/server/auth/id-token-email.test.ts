import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmailAllowList } from '../../../../server/auth/email-allow-list';
import { emailFromIdToken } from '../../../../server/auth/id-token-email';

const allowList = EmailAllowList.parse(['*@example.com']);

function reason(claims: Record<string, unknown> | undefined): string {
	const verdict = emailFromIdToken(claims, allowList);
	return verdict.type === 'allowed' ? `allowed ${verdict.email}` : verdict.reason;
}

describe('emailFromIdToken', () => {
	it('gives a verified, allowed email in lowercase', () => {
		assert.equal(reason({ email: 'Alice@Example.com', email_verified: true }), 'allowed alice@example.com');
		assert.equal(reason({ email: 'alice@example.com', email_verified: 'true' }), 'allowed alice@example.com');
	});

	it('refuses an email the provider has not said it verified, even when it is allowed', () => {
		assert.equal(reason({ email: 'alice@example.com', email_verified: false }), 'email-unverified');
		assert.equal(reason({ email: 'alice@example.com' }), 'email-unverified');
		assert.equal(reason({ email: 'alice@example.com', email_verified: 'yes' }), 'email-unverified');
		assert.equal(reason({ email: 'alice@example.com', email_verified: 1 }), 'email-unverified');
	});

	it('refuses claims without an address', () => {
		for (const email of [
			undefined,
			42,
			'',
			'alice',
			'a@b@example.com',
			'al ice@example.com',
			'a\u0007@example.com',
			`${'a'.repeat(250)}@example.com`,
		]) {
			assert.equal(reason({ email, email_verified: true }), 'no-email', String(email));
		}
		assert.equal(reason(undefined), 'no-email');
	});

	it('refuses a verified address outside the allow list, naming it', () => {
		const verdict = emailFromIdToken({ email: 'bob@other.test', email_verified: true }, allowList);
		assert.equal(verdict.type, 'refused');
		assert.equal(verdict.type === 'refused' && verdict.reason, 'email-not-allowed');
		assert.match(verdict.type === 'refused' ? verdict.message : '', /bob@other\.test may not sign in/);
	});
});
