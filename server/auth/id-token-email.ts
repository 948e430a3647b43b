import type { EmailAllowList } from './email-allow-list';

const MAX_EMAIL_CHARS = 254;
/** One `@`, no space: as user-tokens.ts checks the emails it signs into tokens. */
const EMAIL = /^[^\s@]+@[^\s@]+$/u;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/u;

/** Why an ID token that passed its checks still does not sign anyone in. */
export type EmailRefusal = 'no-email' | 'email-unverified' | 'email-not-allowed';

export type EmailVerdict =
	| { readonly type: 'allowed'; readonly email: string }
	| { readonly type: 'refused'; readonly reason: EmailRefusal; readonly message: string };

/**
 * The user's email from the claims of an ID token whose signature, issuer, audience, nonce and
 * expiry openid-client has already checked. The claims are the provider's word, so they are only
 * read here, never trusted further:
 * - `email` must be an address (one `@`, no spaces or control characters, at most 254 characters);
 * - `email_verified` must be there and true. A provider that leaves it out has not said it checked
 *   the address, and some let users or tenant admins set any address they like (the "nOAuth"
 *   attacks on Microsoft Entra): without the claim, nobody signs in. The string `"true"` counts,
 *   as some providers (AWS Cognito) send it so;
 * - the address must match `--allow-email`.
 * The email is returned in lowercase, as user tokens keep it.
 */
export function emailFromIdToken(
	claims: Readonly<Record<string, unknown>> | undefined,
	allowList: EmailAllowList,
): EmailVerdict {
	const email = claims?.['email'];
	if (
		typeof email !== 'string' ||
		email.length > MAX_EMAIL_CHARS ||
		!EMAIL.test(email) ||
		CONTROL.test(email)
	) {
		return {
			type: 'refused',
			reason: 'no-email',
			message:
				'the provider did not give an email address in the ID token: the agent asks for the "email" scope; ' +
				'the provider must put the email in the ID token',
		};
	}
	const address = email.toLowerCase();
	const verified = claims?.['email_verified'];
	if (verified !== true && verified !== 'true') {
		return {
			type: 'refused',
			reason: 'email-unverified',
			message: `the provider does not say that ${address} is verified: verify the address with the provider`,
		};
	}
	if (!allowList.allows(address)) {
		return {
			type: 'refused',
			reason: 'email-not-allowed',
			message: `${address} may not sign in to this agent: ask its owner to allow it (--allow-email)`,
		};
	}
	return { type: 'allowed', email: address };
}
