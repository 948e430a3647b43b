import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { Disposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import type { EmailAllowList } from './email-allow-list';
import { emailFromIdToken, type EmailRefusal } from './id-token-email';
import { PendingSignIns, SIGN_IN_TTL_MS, type PendingSignIn } from './pending-sign-ins';
import { checkIssuerUrl, discoveryFailure, grantRefusal, type GrantRefusal } from './oidc-errors';

/** Where the provider sends the browser back: on the agent's own origin (register it there). */
export const OIDC_CALLBACK_PATH = '/auth/callback';
/** The cookie that ties a sign-in to its browser: this prefix and a random id. */
export const SIGN_IN_COOKIE_PREFIX = 'berth-oidc-';
/** How long discovery may take at start (10 s) before the agent says the issuer is unreachable. */
export const DISCOVERY_TIMEOUT_S = 10;
/** What the agent asks for: an ID token (`openid`) with the user's address (`email`). */
const SCOPE = 'openid email';
/** Random bytes in the cookie's name and value (the value is a secret of the browser's). */
const COOKIE_ID_BYTES = 9;
const COOKIE_VALUE_BYTES = 32;
/** The statuses of refusals: a callback that is bad or used; a person who may not sign in. */
const BAD_CALLBACK = 400;
const NOT_ALLOWED = 403;

/** What `--oidc-*`, `--allow-email` and `--public-url` give. The secret comes from a file, never argv. */
export interface OidcSignInConfig {
	/** The issuer identifier: https://, or http:// on a loopback host (a provider on this machine). */
	readonly issuer: string;
	readonly clientId: string;
	readonly clientSecret: string;
	readonly allowEmail: EmailAllowList;
	/** How browsers reach the agent (an origin), when a proxy in front of it changes that; else each request's. */
	readonly publicUrl?: string;
}

/** Why a callback does not sign anyone in: the log's `why=`, and what the page may explain. */
export type SignInRefusal =
	| 'unknown-state' // no sign-in waits with this `state`: forged, used already, expired, or the agent restarted
	| 'other-browser' // the browser that came back is not the one that started the sign-in
	| GrantRefusal // the provider said no, its answer failed a check (a forged ID token), or it could not be reached
	| EmailRefusal; // the ID token names no verified address that --allow-email lets in

/**
 * The end of a sign-in: who it is and where the browser goes, or why not: the reason, the HTTP
 * status the page should have (400 a callback that is bad or used, 403 a person who may not sign
 * in, 502 a provider that failed), and a message for the person, with no secret in it.
 */
export type SignInResult =
	| { readonly type: 'signed-in'; readonly email: string; readonly returnTo: string }
	| {
			readonly type: 'refused';
			readonly reason: SignInRefusal;
			readonly status: number;
			readonly message: string;
	  };

/** One request to a sign-in step (the web pages' WebSignInRequest): the origin is as the browser reached the agent. */
export interface SignInRequest {
	readonly req: IncomingMessage;
	readonly res: ServerResponse;
	/** `https://host[:port]` (`http://` without TLS); --public-url, when given, takes its place. */
	readonly origin: string;
	/** Whether the browser reached the agent over TLS. */
	readonly secure: boolean;
}

/**
 * Sign-in through an OpenID Connect provider (`berth server --oidc-issuer`), with openid-client
 * doing the protocol: the authorization-code flow with PKCE (S256), `state` and `nonce`, and every
 * check of the ID token (its signature against the issuer's published keys, `iss`, `aud`, `exp`,
 * `iat`, `nonce`).
 *
 *     browser ── GET (web page) ──► agent: start()         remembers state, nonce, verifier (10 min)
 *     agent ─── 302 + cookie ────► browser ──► provider   the user signs in there
 *     provider ─ 302 ────────────► browser ──► agent: callback()   /auth/callback?code&state&iss
 *     agent ─── code + verifier ─► provider token endpoint ─► ID token ─► email, --allow-email
 *
 * The agent keeps no tokens from the provider: the email is all it wants. Nothing here logs a
 * code, a token, `state` or the callback's URL. The web pages (sessions, CSRF, the pages) call
 * start() and callback(): this class has the shape of their WebSignIn seam (server/http/web/).
 */
export class OidcSignIn extends Disposable {
	private readonly pending: PendingSignIns;

	private constructor(
		private readonly client: oidc.Configuration,
		private readonly config: OidcSignInConfig,
		timers: Timers,
		private readonly log: Logger,
	) {
		super();
		this.pending = this._register(new PendingSignIns(timers));
	}

	/**
	 * Reads the issuer's discovery document (at start: a wrong issuer stops the agent at once,
	 * rather than at the first user's sign-in).
	 * @throws BerthError BERTH_ERR_USAGE for an issuer URL that is not https:// (or http:// on
	 * loopback), or that answers but not as an OpenID Connect issuer; BERTH_ERR_CONNECT when it
	 * cannot be reached within DISCOVERY_TIMEOUT_S.
	 */
	static async discover(config: OidcSignInConfig, timers: Timers, log: Logger): Promise<OidcSignIn> {
		const issuer = checkIssuerUrl(config.issuer);
		// http:// only reaches a provider on this machine (checkIssuerUrl refused any other).
		const insecure = issuer.protocol === 'http:';
		let client: oidc.Configuration;
		try {
			client = await oidc.discovery(
				issuer,
				config.clientId,
				undefined,
				oidc.ClientSecretBasic(config.clientSecret),
				{
					timeout: DISCOVERY_TIMEOUT_S,
					// The ID token's signature is checked against the issuer's keys (jwks_uri) although it
					// comes straight from the token endpoint, where OIDC lets TLS vouch for it instead: a
					// loopback provider has no TLS, and a signature is one check more that costs one
					// (cached) request.
					execute: [oidc.enableNonRepudiationChecks, ...(insecure ? [oidc.allowInsecureRequests] : [])],
				},
			);
		} catch (error) {
			throw discoveryFailure(config.issuer, error);
		}
		return new OidcSignIn(client, config, timers, log);
	}

	/** The issuer, as its discovery document names it. */
	get issuer(): string {
		return this.client.serverMetadata().issuer;
	}

	/** What the sign-in link says: "Sign in with accounts.google.com". */
	get label(): string {
		return `Sign in with ${new URL(this.issuer).host}`;
	}

	/** Who may sign in: the --allow-email patterns. */
	get allowed(): string {
		return this.config.allowEmail.toString();
	}

	/** The redirect URI to register at the provider, when --public-url gives the agent's origin. */
	get redirectUri(): string | undefined {
		return this.config.publicUrl !== undefined
			? new URL(OIDC_CALLBACK_PATH, this.config.publicUrl).href
			: undefined;
	}

	/**
	 * Sends a browser that wants to sign in to the provider: 302, with a cookie (HttpOnly,
	 * SameSite=Lax so the provider's redirect back carries it, Path=/auth/callback, 10 min, Secure
	 * over https) that only this browser has. `returnTo` is where it lands once signed in: a path on
	 * the agent (anything else becomes `/`). Answers `res` itself; rejects only on a failure of its own
	 * (the web pages then answer 502).
	 */
	async start(request: SignInRequest, returnTo: string): Promise<void> {
		const { res } = request;
		const origin = this.config.publicUrl ?? request.origin;
		const redirectUri = new URL(OIDC_CALLBACK_PATH, origin).href;
		const signIn: PendingSignIn = {
			state: oidc.randomState(),
			nonce: oidc.randomNonce(),
			codeVerifier: oidc.randomPKCECodeVerifier(),
			redirectUri,
			cookieName: SIGN_IN_COOKIE_PREFIX + randomBytes(COOKIE_ID_BYTES).toString('base64url'),
			cookieValue: randomBytes(COOKIE_VALUE_BYTES).toString('base64url'),
			returnTo: safeReturnTo(returnTo),
		};
		const authorizationUrl = oidc.buildAuthorizationUrl(this.client, {
			redirect_uri: redirectUri,
			scope: SCOPE,
			state: signIn.state,
			nonce: signIn.nonce,
			code_challenge: await oidc.calculatePKCECodeChallenge(signIn.codeVerifier),
			code_challenge_method: 'S256',
			...this.claimsParameter(),
		});
		this.pending.add(signIn);
		this.log.debug('sign-in started', { pending: this.pending.size });
		const secure = origin.startsWith('https:') ? '; Secure' : '';
		appendSetCookie(
			res,
			`${signIn.cookieName}=${signIn.cookieValue}; Max-Age=${SIGN_IN_TTL_MS / 1000}; ` +
				`Path=${OIDC_CALLBACK_PATH}; HttpOnly; SameSite=Lax${secure}`,
		);
		res.setHeader('Cache-Control', 'no-store');
		res.setHeader('Location', authorizationUrl.href);
		res.writeHead(302);
		res.end();
	}

	/**
	 * The provider's redirect back (`GET /auth/callback`): checks it and returns the result. It writes
	 * no body and does not end the response: the caller answers (a session cookie and a redirect to
	 * `returnTo`, or a page with the refusal's message and status). It appends a Set-Cookie that
	 * removes the sign-in's cookie: the caller should add its own cookies, not replace the header.
	 * Never rejects.
	 */
	async callback(request: SignInRequest): Promise<SignInResult> {
		const { req, res } = request;
		const query = new URL(req.url ?? '/', 'http://agent.invalid').searchParams;
		const result = await this.complete(query, req.headers.cookie, (cookieName) =>
			appendSetCookie(res, `${cookieName}=; Max-Age=0; Path=${OIDC_CALLBACK_PATH}; HttpOnly; SameSite=Lax`),
		);
		res.setHeader('Cache-Control', 'no-store');
		return result;
	}

	/** Some providers put the email in the ID token only when asked by name (OIDC Core 5.5). */
	private claimsParameter(): Record<string, string> {
		return this.client.serverMetadata().claims_parameter_supported === true
			? { claims: JSON.stringify({ id_token: { email: { essential: true }, email_verified: null } }) }
			: {};
	}

	/**
	 * Finishes a sign-in from the callback's query and the browser's Cookie header: the sign-in
	 * named by `state` is taken (once, whatever comes of it), the cookie must be its own, then
	 * openid-client redeems the code (with the PKCE verifier) and checks the ID token (nonce
	 * included), and the email must be verified and allowed. `onTaken` gets the cookie's name, to
	 * remove it.
	 */
	private async complete(
		query: URLSearchParams,
		cookieHeader: string | undefined,
		onTaken: (cookieName: string) => void = () => undefined,
	): Promise<SignInResult> {
		const state = query.get('state');
		const signIn = state !== null ? this.pending.take(state) : undefined;
		if (!signIn) {
			return this.refuse(
				'unknown-state',
				BAD_CALLBACK,
				'this sign-in is unknown, used already or expired: sign in again',
			);
		}
		onTaken(signIn.cookieName);
		if (!sameSecret(readCookie(cookieHeader, signIn.cookieName), signIn.cookieValue)) {
			return this.refuse(
				'other-browser',
				BAD_CALLBACK,
				'this sign-in was started in another browser (or its cookie is gone): sign in again from here',
			);
		}
		const currentUrl = new URL(signIn.redirectUri);
		currentUrl.search = query.toString();
		let claims: Readonly<Record<string, unknown>> | undefined;
		try {
			const tokens = await oidc.authorizationCodeGrant(this.client, currentUrl, {
				pkceCodeVerifier: signIn.codeVerifier,
				expectedState: signIn.state,
				expectedNonce: signIn.nonce,
				idTokenExpected: true,
			});
			claims = tokens.claims();
		} catch (error) {
			const refusal = grantRefusal(error);
			return this.refuse(refusal.reason, refusal.status, refusal.message, refusal.detail);
		}
		const verdict = emailFromIdToken(claims, this.config.allowEmail);
		if (verdict.type === 'refused') {
			return this.refuse(verdict.reason, NOT_ALLOWED, verdict.message);
		}
		this.log.info('signed in', { user: verdict.email });
		return { type: 'signed-in', email: verdict.email, returnTo: signIn.returnTo };
	}

	private refuse(reason: SignInRefusal, status: number, message: string, detail?: string): SignInResult {
		this.log.warn('sign-in refused', { why: reason, ...(detail !== undefined ? { detail } : {}) });
		return { type: 'refused', reason, status, message };
	}
}

/**
 * A path on the agent (`/tokens?x=1`), never another site (`//evil.test`, `https://…`,
 * `/\evil.test`), and only characters a URL's path and query may hold as they are (no space or
 * control character could then break the Location header).
 */
function safeReturnTo(returnTo: string): string {
	return /^\/(?![/\\])[\w\-./~%?&=+:@!$'()*,;]*$/u.test(returnTo) ? returnTo : '/';
}

/** Compares a cookie with the secret it should hold, in constant time. */
function sameSecret(presented: string | undefined, expected: string): boolean {
	if (presented === undefined) {
		return false;
	}
	const a = Buffer.from(presented);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Adds a cookie to the response's Set-Cookie header, keeping any set before. */
function appendSetCookie(res: ServerResponse, cookie: string): void {
	const existing = res.getHeader('Set-Cookie');
	const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
	res.setHeader('Set-Cookie', [...list, cookie]);
}

/** The value of one cookie in a Cookie header, or undefined. */
function readCookie(header: string | undefined, name: string): string | undefined {
	for (const part of (header ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === name) {
			return part.slice(eq + 1).trim();
		}
	}
	return undefined;
}
