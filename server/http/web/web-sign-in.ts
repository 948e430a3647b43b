import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The seam for signing users in through an identity provider (OpenID Connect: server/auth/oidc*.ts
 * implements it). Berth's web pages own everything around it: the browser session, its cookie,
 * CSRF, the return path, the pages. Without a provider only the agent's owner signs in (with the
 * connection token, on /auth/login).
 *
 *     GET /auth/login?return=/tokens ──► start()    ──302──► the provider
 *     GET /auth/callback?code&state  ──► callback() ──► {signed-in, email, returnTo}
 *                                                       Berth: session cookie, 303 to returnTo
 */

/** The provider's redirect URI is this path on the agent's origin (as the browser reached it). */
export const WEB_SIGN_IN_CALLBACK_PATH = '/auth/callback';

/** One request to a sign-in step, with the agent's origin as the browser reached it. */
export interface WebSignInRequest {
	readonly req: IncomingMessage;
	readonly res: ServerResponse;
	/** `https://host[:port]` (`http://` without TLS): the redirect URI is origin + WEB_SIGN_IN_CALLBACK_PATH. */
	readonly origin: string;
	/** Whether the browser reached the agent over TLS: cookies set then must be `Secure`. */
	readonly secure: boolean;
}

/** What the provider's callback came to. */
export type WebSignInResult =
	| {
			readonly type: 'signed-in';
			/** The verified email (the ID token's, `email_verified`), allowed by --allow-email. */
			readonly email: string;
			/** The `returnTo` given to start() for this sign-in (kept with its state). Berth checks it again. */
			readonly returnTo: string;
	  }
	| {
			readonly type: 'refused';
			/** 400 for a bad or replayed callback (state, nonce, code), 403 for an email not allowed, 502 for a provider failure. */
			readonly status: number;
			/** Shown to the person on the page, so it says what went wrong and what to do; no secrets. */
			readonly message: string;
	  };

export interface WebSignIn {
	/** What the sign-in link says, e.g. "Sign in with accounts.google.com". */
	readonly label: string;
	/**
	 * Sends the browser to the provider: answers `res` itself (302, Location, any cookie of its own
	 * for state, nonce and PKCE verifier, with `res.appendHeader('Set-Cookie', …)`: HttpOnly,
	 * SameSite=Lax, Secure when `secure`, Path=/auth/callback). Rejecting makes Berth answer 502.
	 */
	start(request: WebSignInRequest, returnTo: string): Promise<void>;
	/**
	 * Checks the provider's answer on /auth/callback (state, PKCE, the ID token and its nonce, the
	 * email). It must NOT end the response: Berth answers (the session cookie and a redirect, or a
	 * page with the refusal). It may add headers, e.g. `appendHeader('Set-Cookie', …)` to clear
	 * its own cookie. Never throws for what the browser sent: that is a refusal.
	 */
	callback(request: WebSignInRequest): Promise<WebSignInResult>;
}
