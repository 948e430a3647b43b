import * as oidc from 'openid-client';
import { BerthError, errorMessage } from '../../protocol/errors';
import { isLoopbackHost } from '../http/host-check';

/**
 * What can go wrong between the agent and an OpenID Connect provider, in Berth's terms: the
 * issuer URL a user gave, a discovery that failed (unreachable, or not an issuer), and a callback
 * whose code the provider would not redeem or whose answer failed openid-client's checks. Decided
 * on error classes and codes, never on message text.
 */

/** Why redeeming a callback's code did not give a trustworthy ID token. */
export type GrantRefusal =
	| 'provider-error' // the provider said no: the user denied or cancelled, or the code was refused (a PKCE verifier that does not match, a code used twice)
	| 'invalid-response' // the provider's answer failed a check: an ID token that is forged, for another client, with another nonce, expired
	| 'provider-unreachable'; // the token endpoint could not be reached

/** An OAuth error code as the provider sent it, cut to what is safe in a log line. */
const SAFE_CODE = /^[\w.-]{1,64}$/u;

/**
 * The `--oidc-issuer` URL, checked: https://, or http:// on a loopback host (a provider on this
 * machine, where nothing crosses a network), with no credentials, query or fragment (an issuer
 * identifier has none).
 * @throws BerthError BERTH_ERR_USAGE saying what to give instead.
 */
export function checkIssuerUrl(text: string): URL {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw usage(text, 'is not a URL');
	}
	if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
		throw usage(text, 'is not https:// (plain http:// only reaches a provider on this machine, on loopback)');
	}
	if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
		throw usage(text, 'has credentials, a query or a fragment, which an issuer identifier never has');
	}
	return url;
}

function usage(text: string, what: string): BerthError {
	return new BerthError(
		'BERTH_ERR_USAGE',
		`--oidc-issuer ${JSON.stringify(text.slice(0, 200))} ${what}: give the provider's issuer, such as https://accounts.google.com`,
	);
}

/**
 * The error that stops the agent's start when discovery fails: BERTH_ERR_CONNECT (exit 4) when
 * the issuer could not be reached, BERTH_ERR_USAGE (exit 2) when it answered but not as an
 * OpenID Connect issuer (a wrong URL, or a document that names another issuer).
 */
export function discoveryFailure(issuer: string, error: unknown): BerthError {
	if (isNetworkError(error)) {
		return new BerthError(
			'BERTH_ERR_CONNECT',
			`the OpenID Connect issuer ${issuer} could not be reached (${networkCause(error)}): check --oidc-issuer and this host's network`,
			undefined,
			{ cause: error },
		);
	}
	const code =
		error instanceof oidc.ClientError && error.code !== undefined ? error.code : errorMessage(error);
	return new BerthError(
		'BERTH_ERR_USAGE',
		`${issuer} did not answer as an OpenID Connect issuer (${code} at ${issuer.replace(/\/$/u, '')}/.well-known/openid-configuration): check --oidc-issuer`,
		undefined,
		{ cause: error },
	);
}

/** The statuses of refusals (as the web pages answer them). */
const BAD_CALLBACK = 400;
const DENIED = 403;
const PROVIDER_FAILED = 502;

/**
 * A refused grant: the kind, the page's status, the user's message, and a detail for the log (an
 * OAuth error code). A code the provider would not redeem (`invalid_grant`: used, expired, or
 * another sign-in's PKCE verifier) is a bad callback; a user who said no at the provider, denied;
 * anything else the provider's failure (`invalid_client` is a wrong client secret).
 */
export function grantRefusal(error: unknown): {
	readonly reason: GrantRefusal;
	readonly status: number;
	readonly message: string;
	readonly detail?: string;
} {
	if (error instanceof oidc.AuthorizationResponseError) {
		const detail = safeCode(error.error);
		return error.error === 'access_denied'
			? {
					reason: 'provider-error',
					status: DENIED,
					message: 'the sign-in was denied or cancelled at the provider',
					detail,
				}
			: {
					reason: 'provider-error',
					status: PROVIDER_FAILED,
					message: `the provider refused the sign-in (${detail}): try again`,
					detail,
				};
	}
	if (error instanceof oidc.ResponseBodyError) {
		const detail = safeCode(error.error);
		return {
			reason: 'provider-error',
			status: error.error === 'invalid_grant' ? BAD_CALLBACK : PROVIDER_FAILED,
			message: `the provider would not redeem this sign-in (${detail}): sign in again`,
			detail,
		};
	}
	if (isNetworkError(error)) {
		return {
			reason: 'provider-unreachable',
			status: PROVIDER_FAILED,
			message: 'the agent could not reach the provider to finish the sign-in: try again later',
			detail: networkCause(error),
		};
	}
	return {
		reason: 'invalid-response',
		status: PROVIDER_FAILED,
		message:
			"the provider's answer failed the agent's checks (the ID token's signature, issuer, audience, nonce or " +
			"expiry): sign in again, and tell the agent's owner if it happens again",
		detail:
			error instanceof oidc.ClientError && error.code !== undefined ? safeCode(error.code) : 'unexpected',
	};
}

/** fetch() failing to connect (a TypeError with the socket's error as its cause), or timing out. */
function isNetworkError(error: unknown): error is Error {
	if (!(error instanceof Error)) {
		return false;
	}
	return (
		error.name === 'TimeoutError' ||
		error.name === 'AbortError' ||
		(error instanceof TypeError && error.cause instanceof Error)
	);
}

function networkCause(error: Error): string {
	const cause = error.cause as { code?: unknown } | undefined;
	return typeof cause?.code === 'string'
		? cause.code
		: error.name === 'TypeError'
			? 'no connection'
			: 'timed out';
}

function safeCode(code: string): string {
	return SAFE_CODE.test(code) ? code : 'unreadable';
}
