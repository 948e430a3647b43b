import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { BerthError } from '../../../../protocol/errors';
import { EmailAllowList } from '../../../../server/auth/email-allow-list';
import {
	OIDC_CALLBACK_PATH,
	OidcSignIn,
	SIGN_IN_COOKIE_PREFIX,
	type SignInResult,
} from '../../../../server/auth/oidc-sign-in';
import { SIGN_IN_TTL_MS } from '../../../../server/auth/pending-sign-ins';
import { createLogger } from '../../../../server/shared/log';
import { HttpBrowser, type BrowserResponse } from '../../../helpers/http-browser';
import { ManualTimers } from '../../../helpers/manual-timers';
import { freePort } from '../../../helpers/net';
import { TEST_OIDC_USERS, TestOidcProvider } from '../../../helpers/oidc-provider';

/**
 * OidcSignIn against a real OpenID Connect provider (oidc-provider, in this process, on loopback),
 * driven over real HTTP by a browser with a cookie jar. A small HTTP server stands in for the
 * agent's web side: GET /sign-in calls start(), GET /auth/callback calls callback() and answers
 * the result as JSON.
 */

interface Setup {
	readonly origin: string;
	readonly provider: TestOidcProvider;
	readonly signIn: OidcSignIn;
	readonly timers: ManualTimers;
	readonly logLines: string[];
}

async function setup(
	t: TestContext,
	allowEmail: readonly string[] = ['*@example.com'],
	publicUrl?: string,
): Promise<Setup> {
	// The agent listens first: the provider needs its origin for the redirect URI.
	const agentSide: { signIn?: OidcSignIn } = {};
	const agent = createServer((req, res) => {
		const signIn = agentSide.signIn;
		const url = new URL(req.url ?? '/', 'http://agent.invalid');
		// As the web pages call it: the origin the browser used (this test's agent has no TLS).
		const request = { req, res, origin: `http://${req.headers.host}`, secure: false };
		if (url.pathname === '/sign-in' && signIn) {
			void signIn.start(request, url.searchParams.get('returnTo') ?? '/');
		} else if (url.pathname === OIDC_CALLBACK_PATH && signIn) {
			void signIn.callback(request).then((result) => {
				res.writeHead(200, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify(result));
			});
		} else {
			res.writeHead(404);
			res.end();
		}
	});
	const origin = await listen(agent);
	t.after(() => new Promise<void>((resolve) => agent.close(() => resolve())));
	const provider = await TestOidcProvider.start({ redirectUris: [origin + OIDC_CALLBACK_PATH] });
	t.after(() => provider.stop());
	const timers = new ManualTimers();
	const logLines: string[] = [];
	const log = createLogger({ format: 'text', level: 'debug', write: (line) => logLines.push(line) });
	const signIn = await OidcSignIn.discover(
		{
			issuer: provider.issuer,
			clientId: provider.clientId,
			clientSecret: provider.clientSecret,
			allowEmail: EmailAllowList.parse(allowEmail),
			...(publicUrl !== undefined ? { publicUrl } : {}),
		},
		timers,
		log,
	);
	agentSide.signIn = signIn;
	t.after(() => {
		signIn.dispose();
		assert.equal(timers.pending, 0, 'no expiry timer outlives the sign-in object');
	});
	return { origin, provider, signIn, timers, logLines };
}

async function listen(server: Server): Promise<string> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts a sign-in at the agent and signs in at the provider as `email` (or cancels there): the
 * URL the provider sends the browser back to, not yet requested.
 */
async function signInAtProvider(
	s: Setup,
	browser: HttpBrowser,
	email: string | 'cancel',
	returnTo = '/tokens',
): Promise<string> {
	const isCallback = (url: string) => url.startsWith(s.origin + OIDC_CALLBACK_PATH);
	const loginPage = await browser.follow(
		`${s.origin}/sign-in?returnTo=${encodeURIComponent(returnTo)}`,
		isCallback,
	);
	if (loginPage.location !== undefined && isCallback(loginPage.location)) {
		return loginPage.location; // the provider remembers this browser's user: no login page
	}
	assert.equal(
		loginPage.status,
		200,
		`the provider's login page (got ${loginPage.status} at ${loginPage.url})`,
	);
	assert.match(loginPage.body, /<input id="email"/);
	const form: Record<string, string> = email === 'cancel' ? { action: 'cancel' } : { email, action: 'login' };
	const submitted = await browser.post(loginPage.url, form);
	assert.ok(submitted.location, `the login form redirects (got ${submitted.status}: ${submitted.body})`);
	const back = await browser.follow(submitted.location, isCallback);
	assert.ok(
		back.location && isCallback(back.location),
		`the provider sends the browser back (got ${back.status})`,
	);
	return back.location;
}

async function finish(
	browser: HttpBrowser,
	callbackUrl: string,
): Promise<{ result: SignInResult; response: BrowserResponse }> {
	const response = await browser.get(callbackUrl);
	assert.equal(response.status, 200);
	return { result: JSON.parse(response.body) as SignInResult, response };
}

/** The refusal's reason and the status the page gets ("unknown-state 400"), or who signed in. */
function refusal(result: SignInResult): string {
	return result.type === 'refused' ? `${result.reason} ${result.status}` : `signed in as ${result.email}`;
}

describe('OidcSignIn (a real OpenID Connect provider)', () => {
	it('signs alice in with her verified email, and removes its cookie', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
		const params = new URL(callback).searchParams;
		assert.ok(
			params.get('code') && params.get('state') && params.get('iss'),
			'code, state and iss come back',
		);
		const signInCookies = () =>
			browser.cookieNames(callback).filter((n) => n.startsWith(SIGN_IN_COOKIE_PREFIX));
		assert.equal(signInCookies().length, 1, 'the browser holds one sign-in cookie for /auth/callback');

		const { result, response } = await finish(browser, callback);

		assert.deepEqual(result, { type: 'signed-in', email: 'alice@example.com', returnTo: '/tokens' });
		const cleared = [response.headers['set-cookie'] ?? []]
			.flat()
			.filter((c) => c.startsWith(SIGN_IN_COOKIE_PREFIX));
		assert.equal(cleared.length, 1);
		assert.match(cleared[0]!, /Max-Age=0/);
		assert.deepEqual(signInCookies(), [], 'the sign-in cookie is gone');
	});

	it('asks for PKCE S256, state and nonce, and sets a cookie bound to the callback path', async (t) => {
		const s = await setup(t);
		const started = await new HttpBrowser().get(`${s.origin}/sign-in?returnTo=/tokens`);
		assert.equal(started.status, 302);
		const authorize = new URL(started.location!);
		assert.equal(authorize.origin, s.provider.issuer);
		assert.equal(s.signIn.issuer, s.provider.issuer);
		assert.equal(s.signIn.label, `Sign in with ${new URL(s.provider.issuer).host}`);
		assert.equal(authorize.searchParams.get('response_type'), 'code');
		assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
		assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
		assert.ok((authorize.searchParams.get('state') ?? '').length >= 32);
		assert.ok((authorize.searchParams.get('nonce') ?? '').length >= 32);
		assert.equal(authorize.searchParams.get('redirect_uri'), s.origin + OIDC_CALLBACK_PATH);
		assert.equal(authorize.searchParams.get('scope'), 'openid email');
		const cookie = [started.headers['set-cookie'] ?? []].flat()[0] ?? '';
		assert.match(
			cookie,
			/^berth-oidc-[\w-]+=[\w-]{43}; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/,
		);
	});

	it('with --public-url, sends that origin as the redirect URI and makes the cookie Secure', async (t) => {
		const s = await setup(t, ['*@example.com'], 'https://agent.example:8765');
		assert.equal(s.signIn.redirectUri, 'https://agent.example:8765/auth/callback');
		const started = await new HttpBrowser().get(`${s.origin}/sign-in?returnTo=/tokens`);
		const authorize = new URL(started.location!);
		assert.equal(authorize.searchParams.get('redirect_uri'), 'https://agent.example:8765/auth/callback');
		assert.match([started.headers['set-cookie'] ?? []].flat()[0] ?? '', /; Secure$/);
	});

	it('refuses a replayed callback: a sign-in is used once', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
		assert.equal((await finish(browser, callback)).result.type, 'signed-in');
		assert.equal(refusal((await finish(browser, callback)).result), 'unknown-state 400');
	});

	it('refuses a wrong state, and the right one still works after it', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = new URL(await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email));
		const forged = new URL(callback);
		forged.searchParams.set('state', 'x'.repeat(43));
		assert.equal(refusal((await finish(browser, forged.href)).result), 'unknown-state 400');
		const missing = new URL(callback);
		missing.searchParams.delete('state');
		assert.equal(refusal((await finish(browser, missing.href)).result), 'unknown-state 400');
		assert.equal((await finish(browser, callback.href)).result.type, 'signed-in');
	});

	it('refuses a callback that another browser brings (login CSRF)', async (t) => {
		const s = await setup(t);
		const attacker = new HttpBrowser();
		const callback = await signInAtProvider(s, attacker, TEST_OIDC_USERS.bob.email);
		const victim = new HttpBrowser();
		assert.equal(refusal((await finish(victim, callback)).result), 'other-browser 400');
		assert.equal(
			refusal((await finish(attacker, callback)).result),
			'unknown-state 400',
			'and the sign-in is spent',
		);
	});

	it('refuses an ID token signed by another key', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
		s.provider.forgeIdTokens({ key: 'other' });
		assert.equal(refusal((await finish(browser, callback)).result), 'invalid-response 502');
	});

	it('refuses an ID token with another nonce, or for another client, even when the provider signed it', async (t) => {
		const s = await setup(t);
		const forgeries = [
			(claims: Record<string, unknown>) => ({ ...claims, nonce: 'n'.repeat(43) }),
			(claims: Record<string, unknown>) => ({ ...claims, aud: 'another-client' }),
			(claims: Record<string, unknown>) => ({ ...claims, iss: 'https://issuer.invalid' }),
			(claims: Record<string, unknown>) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }),
		];
		for (const claims of forgeries) {
			const browser = new HttpBrowser();
			const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
			s.provider.forgeIdTokens({ key: 'provider', claims });
			assert.equal(refusal((await finish(browser, callback)).result), 'invalid-response 502', String(claims));
			s.provider.forgeIdTokens(undefined);
		}
		// The same forgery hook, changing nothing: the checks above refused the claims, not the hook.
		s.provider.forgeIdTokens({ key: 'provider' });
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
		assert.equal((await finish(browser, callback)).result.type, 'signed-in');
	});

	it('refuses an email outside --allow-email, and one the provider has not verified', async (t) => {
		const s = await setup(t);
		const cases = [
			[TEST_OIDC_USERS.bob.email, 'email-not-allowed 403'],
			[TEST_OIDC_USERS.carol.email, 'email-unverified 403'],
			[TEST_OIDC_USERS.dave.email, 'email-unverified 403'], // no email_verified claim at all
		] as const;
		for (const [email, reason] of cases) {
			const browser = new HttpBrowser();
			const { result } = await finish(browser, await signInAtProvider(s, browser, email));
			assert.equal(refusal(result), reason, email);
		}
	});

	it('lets bob in when --allow-email names him (case-insensitively)', async (t) => {
		const s = await setup(t, ['*@example.com', 'BOB@Other.Test']);
		const browser = new HttpBrowser();
		const { result } = await finish(browser, await signInAtProvider(s, browser, TEST_OIDC_USERS.bob.email));
		assert.deepEqual(result, { type: 'signed-in', email: 'bob@other.test', returnTo: '/tokens' });
	});

	it("refuses a code redeemed with another sign-in's PKCE verifier (code injection)", async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		// Two sign-ins in one browser: both cookies are there, so only PKCE tells them apart.
		const first = new URL(await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email));
		const second = new URL(await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email));
		const injected = new URL(second);
		injected.searchParams.set('code', first.searchParams.get('code')!);
		const { result } = await finish(browser, injected.href);
		assert.equal(refusal(result), 'provider-error 400');
		assert.match(result.type === 'refused' ? result.message : '', /invalid_grant/);
		assert.equal((await finish(browser, first.href)).result.type, 'signed-in', 'the first is untouched');
	});

	it('refuses a sign-in cancelled at the provider', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, 'cancel');
		assert.equal(new URL(callback).searchParams.get('error'), 'access_denied');
		const { result } = await finish(browser, callback);
		assert.deepEqual(result, {
			type: 'refused',
			reason: 'provider-error',
			status: 403,
			message: 'the sign-in was denied or cancelled at the provider',
		});
	});

	it('forgets a sign-in after 10 minutes', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email);
		s.timers.advance(SIGN_IN_TTL_MS);
		assert.equal(refusal((await finish(browser, callback)).result), 'unknown-state 400');
	});

	it('sends the browser back only to a path on the agent', async (t) => {
		const s = await setup(t);
		for (const [returnTo, expected] of [
			['/tokens?x=1', '/tokens?x=1'],
			['//evil.test/', '/'],
			['/\\evil.test', '/'],
			['https://evil.test/', '/'],
			['javascript:alert(1)', '/'],
			['/tokens\r\nSet-Cookie: x=y', '/'],
			['/a b', '/'],
		] as const) {
			const browser = new HttpBrowser();
			const { result } = await finish(
				browser,
				await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email, returnTo),
			);
			assert.equal(result.type === 'signed-in' ? result.returnTo : result.reason, expected, returnTo);
		}
	});

	it('logs who signed in and why a sign-in was refused, never a code, token or state', async (t) => {
		const s = await setup(t);
		const browser = new HttpBrowser();
		const callback = new URL(await signInAtProvider(s, browser, TEST_OIDC_USERS.alice.email));
		await finish(browser, callback.href);
		const other = new HttpBrowser();
		const refused = new URL(await signInAtProvider(s, other, TEST_OIDC_USERS.bob.email));
		await finish(other, refused.href);
		const log = s.logLines.join('\n');
		assert.match(log, /signed in user=alice@example\.com/);
		assert.match(log, /sign-in refused why=email-not-allowed/);
		for (const url of [callback, refused]) {
			for (const secret of [url.searchParams.get('code')!, url.searchParams.get('state')!]) {
				assert.ok(!log.includes(secret), 'no code or state in the log');
			}
		}
		assert.ok(!log.includes(s.provider.clientSecret), 'no client secret in the log');
		assert.doesNotMatch(log, /eyJ/, 'no JWT in the log');
	});
});

describe('OidcSignIn.discover', () => {
	const config = { clientId: 'c', clientSecret: 's', allowEmail: EmailAllowList.parse(['*@example.com']) };
	const log = createLogger({ format: 'text', level: 'error', write: () => undefined });

	it('says an issuer that nothing answers is unreachable (BERTH_ERR_CONNECT)', async () => {
		const issuer = `http://127.0.0.1:${await freePort()}`;
		await assert.rejects(OidcSignIn.discover({ ...config, issuer }, new ManualTimers(), log), (error) => {
			assert.ok(error instanceof BerthError);
			assert.equal(error.code, 'BERTH_ERR_CONNECT');
			assert.match(error.message, /could not be reached \(ECONNREFUSED\): check --oidc-issuer/);
			return true;
		});
	});

	it('says a server that is no OpenID Connect issuer is the wrong issuer (BERTH_ERR_USAGE)', async (t) => {
		const server = createServer((_req, res) => {
			res.writeHead(404);
			res.end();
		});
		const issuer = await listen(server);
		t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
		await assert.rejects(OidcSignIn.discover({ ...config, issuer }, new ManualTimers(), log), (error) => {
			assert.ok(error instanceof BerthError);
			assert.equal(error.code, 'BERTH_ERR_USAGE');
			assert.match(
				error.message,
				/did not answer as an OpenID Connect issuer .*\/\.well-known\/openid-configuration/,
			);
			return true;
		});
	});

	it('refuses plain http:// off loopback, and URLs that are no issuer, before any request', async () => {
		for (const issuer of [
			'http://accounts.example.com',
			'ftp://127.0.0.1',
			'https://user:pw@issuer.example',
			'https://issuer.example/?x=1',
			'not a url',
		]) {
			await assert.rejects(
				OidcSignIn.discover({ ...config, issuer }, new ManualTimers(), log),
				(error) => error instanceof BerthError && error.code === 'BERTH_ERR_USAGE',
				issuer,
			);
		}
	});
});
