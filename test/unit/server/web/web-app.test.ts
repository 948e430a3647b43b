import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { AgentKey } from '../../../../server/auth/agent-key';
import { MemoryTokenStore } from '../../../../server/auth/memory-token-store';
import { UserTokens } from '../../../../server/auth/user-tokens';
import type { ConnectionToken } from '../../../../server/connection-token';
import {
	DEVICE_CODE_BURST,
	USER_CODE_GUESS_BURST,
	USER_CODE_GUESS_REFILL_MS,
	WebApp,
} from '../../../../server/http/web/web-app';
import { WEB_CSP } from '../../../../server/http/web/web-response';
import type { WebSignIn, WebSignInRequest, WebSignInResult } from '../../../../server/http/web/web-sign-in';
import { createNullLogger } from '../../../../server/shared/log';
import { ManualTimers } from '../../../helpers/manual-timers';
import { csrfOf, WebClient } from '../../../helpers/web-client';

const CONNECTION_TOKEN = 'owner-connection-token-0123456789';
const OWNER = 'owner@agent.example';
const SECRET = new TextEncoder().encode('a-signing-secret-of-forty-bytes-or-so-00');

/** A provider that signs in whoever the test says, and records what the pages asked of it. */
class FakeSignIn implements WebSignIn {
	readonly label = 'Sign in with Example ID';
	readonly started: { returnTo: string; origin: string }[] = [];
	next: WebSignInResult = { type: 'signed-in', email: 'Alice@Example.com', returnTo: '/tokens' };
	failStart = false;

	async start(request: WebSignInRequest, returnTo: string): Promise<void> {
		if (this.failStart) {
			throw new Error('discovery failed');
		}
		this.started.push({ returnTo, origin: request.origin });
		request.res.appendHeader('Set-Cookie', 'provider-state=s1; Path=/auth/callback; HttpOnly');
		request.res.writeHead(302, { Location: 'https://id.example/authorize?state=s1' });
		request.res.end();
	}

	async callback(request: WebSignInRequest): Promise<WebSignInResult> {
		request.res.appendHeader('Set-Cookie', 'provider-state=; Path=/auth/callback; Max-Age=0');
		return this.next;
	}
}

/** The web pages on a loopback HTTP server, over an in-memory token store. */
async function start(t: TestContext, options: { signIn?: WebSignIn; store?: MemoryTokenStore } = {}) {
	const store = options.store ?? new MemoryTokenStore();
	const tokens = new UserTokens({ store, secret: SECRET });
	const token: ConnectionToken = { type: 'mandatory', value: CONNECTION_TOKEN, source: 'file' };
	const timers = new ManualTimers();
	const app = new WebApp({
		options: { ownerEmail: OWNER, ...(options.signIn ? { signIn: options.signIn } : {}) },
		token,
		timers,
		wallClock: Date.now,
		log: createNullLogger(),
		tokens,
		store,
		agentKey: AgentKey.generate(),
		logRefusal: () => undefined,
	});
	let origin = '';
	const server: Server = createServer((req, res) => {
		const path = new URL(req.url ?? '/', 'http://x').pathname;
		if (app.serves(path)) {
			app.handle(req, res, { origin, secure: false });
		} else {
			res.writeHead(404).end();
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	t.after(async () => {
		await new Promise((resolve) => server.close(resolve));
		app.dispose();
		tokens.dispose();
	});
	return { origin, store, tokens, timers, browser: () => new WebClient(origin) };
}

async function signInAsOwner(browser: WebClient): Promise<void> {
	const reply = await browser.post('/auth/login', { token: CONNECTION_TOKEN, return: '/tokens' });
	assert.equal(reply.status, 303, reply.text);
}

describe('WebApp: the sign-in seam (WebSignIn)', () => {
	it('sends /auth/login to the provider with the return path and the origin, its cookies kept', async (t) => {
		const signIn = new FakeSignIn();
		const { origin, browser } = await start(t, { signIn });
		const reply = await browser().get('/auth/login?return=%2Fauth%2Fdevice%3Fcode%3DABC-234');
		assert.equal(reply.status, 302);
		assert.equal(reply.headers.location, 'https://id.example/authorize?state=s1');
		assert.deepEqual(signIn.started, [{ returnTo: '/auth/device?code=ABC-234', origin }]);
		assert.match(String(reply.headers['set-cookie']), /provider-state=s1/);
	});

	it('signs a user in on the callback: a session cookie beside the provider’s, then its return path', async (t) => {
		const signIn = new FakeSignIn();
		signIn.next = { type: 'signed-in', email: 'Alice@Example.com', returnTo: '/auth/device' };
		const { browser } = await start(t, { signIn });
		const alice = browser();
		const reply = await alice.get('/auth/callback?code=c&state=s1');
		assert.equal(reply.status, 303);
		assert.equal(reply.headers.location, '/auth/device');
		const cookies = reply.headers['set-cookie'] ?? [];
		assert.ok(
			cookies.some((c) => c.startsWith('provider-state=;')),
			'the provider cleared its cookie',
		);
		assert.ok(
			cookies.some((c) => /^berth-session=[\w-]{43}; .*HttpOnly; SameSite=Lax$/.test(c)),
			String(cookies),
		);
		const page = await alice.get('/tokens');
		assert.equal(page.status, 200);
		assert.match(page.text, /Signed in as <strong>alice@example\.com<\/strong><\/span>/, 'not the owner');
		assert.match(page.text, /Your tokens/);
		assert.doesNotMatch(page.text, /name="role"/, 'a user cannot pick a role');
	});

	it('never follows a return path off the agent', async (t) => {
		const signIn = new FakeSignIn();
		signIn.next = { type: 'signed-in', email: 'alice@example.com', returnTo: '//evil.example/' };
		const { browser } = await start(t, { signIn });
		const reply = await browser().get('/auth/callback?code=c&state=s1');
		assert.equal(reply.headers.location, '/tokens');
	});

	it('shows a refusal with its status, and signs nobody in', async (t) => {
		const signIn = new FakeSignIn();
		signIn.next = { type: 'refused', status: 403, message: 'bob@other.example may not sign in here' };
		const { browser } = await start(t, { signIn });
		const bob = browser();
		const reply = await bob.get('/auth/callback?code=c&state=s1');
		assert.equal(reply.status, 403);
		assert.match(reply.text, /bob@other\.example may not sign in here/);
		assert.equal(bob.cookies.has('berth-session'), false);
		assert.equal((await bob.get('/tokens')).status, 303, 'still signed out');
	});

	it('answers 502 when the provider cannot be reached, and keeps the owner form at ?owner=1', async (t) => {
		const signIn = new FakeSignIn();
		signIn.failStart = true;
		const { browser } = await start(t, { signIn });
		assert.equal((await browser().get('/auth/login')).status, 502);
		const owner = await browser().get('/auth/login?owner=1');
		assert.equal(owner.status, 200);
		assert.match(owner.text, /name="token" type="password"/);
		assert.match(owner.text, /Sign in with Example ID/);
	});

	it('has no callback without a provider', async (t) => {
		const { browser } = await start(t);
		assert.equal((await browser().get('/auth/callback?code=c&state=s')).status, 404);
	});
});

describe('WebApp: pages for users and the owner', () => {
	it('serves every page under the strict CSP, and the script and stylesheet from the agent', async (t) => {
		const { browser } = await start(t);
		const login = await browser().get('/auth/login');
		assert.equal(login.headers['content-security-policy'], WEB_CSP);
		assert.doesNotMatch(login.text, /<script>|\sstyle="|\son[a-z]+="/, 'nothing inline');
		const script = await browser().get('/tokens.js');
		assert.match(String(script.headers['content-type']), /^text\/javascript/);
		assert.match(script.text, /navigator\.clipboard/);
		const css = await browser().get('/berth.css');
		assert.match(String(css.headers['content-type']), /^text\/css/);
	});

	it('lets a user create client tokens for itself only, and see and revoke only its own', async (t) => {
		const signIn = new FakeSignIn();
		const { browser, tokens } = await start(t, { signIn });
		const bobs = await tokens.issue({
			email: 'bob@example.com',
			name: 'bobs-laptop',
			role: 'client',
			ttlMs: 60_000,
		});
		const alice = browser();
		await alice.get('/auth/callback');
		const csrf = csrfOf((await alice.get('/tokens')).text);
		const asProvider = await alice.post('/tokens', { csrf, name: 'x', ttl: '1d', role: 'provider' });
		assert.equal(asProvider.status, 400);
		assert.match(asProvider.text, /Only the agent’s owner creates provider and connector tokens/);
		const forBob = await alice.post('/tokens', { csrf, name: 'x', ttl: '1d', email: 'bob@example.com' });
		assert.equal(forBob.status, 201);
		assert.match(forBob.text, /for alice@example\.com/, 'the email field is the owner’s only');
		const page = await alice.get('/tokens');
		assert.doesNotMatch(page.text, /bobs-laptop/);
		const revokeBobs = await alice.post('/tokens/revoke', { csrf, id: bobs.record.id });
		assert.equal(revokeBobs.status, 404);
		assert.equal((await tokens.verify(bobs.jwt)).type, 'accepted', 'Bob’s token still works');
	});

	it('lets the owner see every token and revoke any', async (t) => {
		const { browser, tokens } = await start(t);
		const bobs = await tokens.issue({
			email: 'bob@example.com',
			name: 'bobs-laptop',
			role: 'client',
			ttlMs: 60_000,
		});
		const owner = browser();
		await signInAsOwner(owner);
		const page = await owner.get('/tokens');
		assert.match(page.text, /All tokens/);
		assert.match(page.text, /bobs-laptop<\/td><td>bob@example\.com/);
		const revoked = await owner.post('/tokens/revoke', { csrf: csrfOf(page.text), id: bobs.record.id });
		assert.equal(revoked.status, 303);
		assert.equal(revoked.headers.location, `/tokens?revoked=${bobs.record.id}`);
		assert.match((await owner.get(revoked.headers.location!)).text, /“bobs-laptop” is revoked/);
		assert.equal((await tokens.verify(bobs.jwt)).type, 'refused');
	});

	it('signs out with the CSRF token only, and the session is gone', async (t) => {
		const { browser } = await start(t);
		const owner = browser();
		await signInAsOwner(owner);
		const csrf = csrfOf((await owner.get('/tokens')).text);
		const session = owner.cookies.get('berth-session')!;
		assert.equal((await owner.post('/auth/logout', {})).status, 403, 'no CSRF token');
		const out = await owner.post('/auth/logout', { csrf });
		assert.equal(out.status, 200);
		assert.equal(owner.cookies.has('berth-session'), false, 'the cookie is cleared');
		const replay = new WebClient(owner.origin);
		replay.cookies.set('berth-session', session);
		assert.equal((await replay.get('/tokens')).status, 303, 'the old id no longer works');
	});

	it('starts a new session id at each sign-in (no fixation)', async (t) => {
		const { browser } = await start(t);
		const owner = browser();
		owner.cookies.set('berth-session', 'an-id-the-attacker-chose');
		await signInAsOwner(owner);
		assert.notEqual(owner.cookies.get('berth-session'), 'an-id-the-attacker-chose');
		assert.equal((await owner.get('/tokens')).status, 200);
	});

	it('answers a failing store with a 500 page, not a crash', async (t) => {
		const store = new MemoryTokenStore();
		const { browser } = await start(t, { store });
		const owner = browser();
		await signInAsOwner(owner);
		store.list = () => Promise.reject(new Error('disk I/O error'));
		const reply = await owner.get('/tokens');
		assert.equal(reply.status, 500);
		assert.match(reply.text, /Something went wrong on the agent/);
	});

	it('answers a wrong method with 405 and the methods it takes (JSON for the device endpoints)', async (t) => {
		const { browser } = await start(t);
		const page = await browser().get('/tokens/revoke');
		assert.equal(page.status, 405);
		assert.equal(page.headers.allow, 'POST');
		const api = await browser().get('/auth/device/poll');
		assert.equal(api.status, 405);
		assert.equal(JSON.parse(api.text).code, 'method_not_allowed');
	});
});

describe('WebApp: the device flow', () => {
	async function newCode(browser: WebClient, sessionName: string) {
		const reply = await browser.post(
			'/auth/device/code',
			{ session_name: sessionName },
			{ json: true, origin: null },
		);
		assert.equal(reply.status, 200, reply.text);
		return JSON.parse(reply.text) as {
			device_code: string;
			user_code: string;
			verification_uri_complete: string;
		};
	}

	it('names the device on the approval page, escaped, and approves only with the CSRF token', async (t) => {
		const { browser } = await start(t);
		const device = browser();
		const code = await newCode(device, '<img src=x onerror=alert(1)>');
		const owner = browser();
		await signInAsOwner(owner);
		const page = await owner.get(
			new URL(code.verification_uri_complete).pathname + `?code=${code.user_code}`,
		);
		assert.equal(page.status, 200);
		assert.match(page.text, /Allow this device\?/);
		assert.match(page.text, /&#60;img src=x onerror=alert\(1\)&#62;/);
		assert.doesNotMatch(page.text, /<img src=x/);
		const forged = await owner.post('/auth/device/approve', { user_code: code.user_code });
		assert.equal(forged.status, 403);
		const crossSite = await owner.post(
			'/auth/device/approve',
			{ csrf: csrfOf(page.text), user_code: code.user_code },
			{ origin: 'http://evil.example' },
		);
		assert.equal(crossSite.status, 403);
		const poll = await device.post('/auth/device/poll', { device_code: code.device_code }, { json: true });
		assert.deepEqual(JSON.parse(poll.text), { status: 'pending' }, 'neither forgery approved it');
	});

	it('reads the code the way a person types it (lowercase, spaces)', async (t) => {
		const { browser } = await start(t);
		const code = await newCode(browser(), 'laptop');
		const owner = browser();
		await signInAsOwner(owner);
		const typed = code.user_code.toLowerCase().replace('-', ' ');
		const page = await owner.get(`/auth/device?code=${encodeURIComponent(typed)}`);
		assert.equal(page.status, 200);
		assert.match(page.text, /Allow this device\?/);
	});

	it('refuses every code from an address past its wrong guesses, until it waits', async (t) => {
		const { browser, timers } = await start(t);
		const code = await newCode(browser(), 'laptop');
		const owner = browser();
		await signInAsOwner(owner);
		for (let i = 0; i < USER_CODE_GUESS_BURST; i++) {
			const wrong = await owner.get('/auth/device?code=ZZZ-ZZZ');
			assert.equal(wrong.status, 400, `guess ${i + 1}`);
			assert.match(wrong.text, /That code is not valid/);
		}
		const held = await owner.get(`/auth/device?code=${code.user_code}`);
		assert.equal(held.status, 429, 'the right code too, while the address waits');
		assert.equal(held.headers['retry-after'], String(USER_CODE_GUESS_REFILL_MS / 1000));
		timers.advance(USER_CODE_GUESS_REFILL_MS);
		assert.equal((await owner.get(`/auth/device?code=${code.user_code}`)).status, 200);
	});

	it('bounds the device codes one address may ask for', async (t) => {
		const { browser } = await start(t);
		const device = browser();
		for (let i = 0; i < DEVICE_CODE_BURST; i++) {
			await newCode(device, `box-${i}`);
		}
		const over = await device.post('/auth/device/code', { session_name: 'one-more' }, { json: true });
		assert.equal(over.status, 429);
		assert.equal(JSON.parse(over.text).code, 'too_many_requests');
		assert.ok(Number(over.headers['retry-after']) > 0);
	});

	it('refuses a session name with control characters, and a poll without a device code it issued (JSON or form)', async (t) => {
		const { origin } = await start(t);
		const device = new WebClient(origin);
		const bad = await device.post('/auth/device/code', { session_name: 'a\u001b[2Jb' }, { json: true });
		assert.equal(bad.status, 400);
		const poll = await device.post('/auth/device/poll', {}, { json: true });
		assert.equal(poll.status, 400);
		assert.deepEqual(JSON.parse(poll.text), { status: 'invalid' });
		const formPoll = await device.post('/auth/device/poll', { device_code: 'nope' });
		assert.deepEqual(JSON.parse(formPoll.text), { status: 'invalid' }, 'form-encoded, as RFC 8628 has it');
	});

	it('sends a signed-out person to sign in first, coming back to the code', async (t) => {
		const { browser } = await start(t);
		const reply = await browser().get('/auth/device?code=ABC-234');
		assert.equal(reply.status, 303);
		assert.equal(reply.headers.location, '/auth/login?return=%2Fauth%2Fdevice%3Fcode%3DABC-234');
	});
});
