import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../../protocol/errors';
import { tokenAccepts } from '../../connection-token';
import { readCookie } from '../read-cookie';
import { DEFAULT_RETURN_PATH, safeReturnPath } from './return-path';
import { addSetCookie, clearedSessionCookie, SESSION_COOKIE, sessionCookie } from './session-cookie';
import { renderSignedOutPage, renderSignInPage } from './sign-in-page';
import type { WebContext, WebRequest } from './web-context';
import { readPostedForm, refuse, sessionOf } from './web-guard';
import { redirect, sendPage } from './web-response';
import type { WebUser } from './web-sessions';

/**
 * Signing in and out:
 * - `GET /auth/login?return=PATH`: with an identity provider, off to it (web-sign-in.ts); without
 *   one, or with `&owner=1`, the owner's form;
 * - `POST /auth/login` (token, return): the owner, with the connection token. Wrong tokens count
 *   against the source address's guesses, shared with the handshake and the API;
 * - `GET /auth/callback`: the provider's answer;
 * - `POST /auth/logout`: ends the session (CSRF-checked).
 */
export async function serveSignIn(w: WebRequest, ctx: WebContext): Promise<void> {
	const path = w.url.pathname;
	if (path === '/auth/login') {
		return w.req.method === 'POST' ? signInOwner(w, ctx) : showSignIn(w, ctx);
	}
	if (path === '/auth/callback') {
		return providerCallback(w, ctx);
	}
	return signOut(w, ctx);
}

async function showSignIn(w: WebRequest, ctx: WebContext): Promise<void> {
	const returnTo = safeReturnPath(w.url.searchParams.get('return'));
	if (sessionOf(w, ctx)) {
		return redirect(w.res, returnTo);
	}
	const signIn = ctx.options.signIn;
	if (signIn && w.url.searchParams.get('owner') !== '1') {
		try {
			return await signIn.start({ req: w.req, res: w.res, origin: w.origin, secure: w.secure }, returnTo);
		} catch (error) {
			ctx.log.warn('the sign-in provider could not be reached', { error: errorMessage(error) });
			return refuse(w, 502, 'The sign-in provider could not be reached. Try again in a moment.');
		}
	}
	sendPage(w.res, 200, renderSignInPage({ returnTo, ...providerLabel(ctx) }));
}

async function signInOwner(w: WebRequest, ctx: WebContext): Promise<void> {
	const retryAfterMs = w.attempts?.retryAfterMs() ?? 0;
	if (retryAfterMs > 0) {
		w.res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
		const error = `Too many wrong tokens from this address: try again in ${Math.ceil(retryAfterMs / 1000)} s.`;
		return sendPage(
			w.res,
			429,
			renderSignInPage({ returnTo: DEFAULT_RETURN_PATH, error, ...providerLabel(ctx) }),
		);
	}
	const form = await readPostedForm(w, ctx, undefined);
	if (!form) {
		return;
	}
	const returnTo = safeReturnPath(form.get('return'));
	const presented = form.get('token') ?? '';
	if (ctx.token.type !== 'mandatory' || !tokenAccepts(ctx.token, presented.trim())) {
		if (presented !== '') {
			w.attempts?.recordFailure();
		}
		const error =
			ctx.token.type === 'mandatory'
				? 'That is not this agent’s connection token.'
				: 'This agent runs without a connection token, so nobody can sign in as its owner.';
		return sendPage(w.res, 403, renderSignInPage({ returnTo, error, ...providerLabel(ctx) }));
	}
	const email = ctx.options.ownerEmail;
	await startSession(w, ctx, { email, userId: await userIdOf(ctx, email), isOwner: true }, returnTo);
}

async function providerCallback(w: WebRequest, ctx: WebContext): Promise<void> {
	const signIn = ctx.options.signIn;
	if (!signIn) {
		return refuse(
			w,
			404,
			'This agent signs users in with its connection token only: there is no provider to come back from.',
		);
	}
	const result = await signIn.callback({ req: w.req, res: w.res, origin: w.origin, secure: w.secure });
	if (result.type === 'refused') {
		ctx.logRefusal('web sign-in refused', { status: result.status });
		return refuse(w, result.status, result.message);
	}
	const email = result.email.trim().toLowerCase();
	const user = { email, userId: await userIdOf(ctx, email), isOwner: false };
	await startSession(w, ctx, user, safeReturnPath(result.returnTo));
}

/** A new session (the old one, if any, ends: a sign-in never keeps an id the browser had). */
async function startSession(w: WebRequest, ctx: WebContext, user: WebUser, returnTo: string): Promise<void> {
	const old = readCookie(w.req.headers.cookie, SESSION_COOKIE);
	if (old !== undefined) {
		ctx.sessions.delete(old);
	}
	const session = ctx.sessions.create(user);
	addSetCookie(w.res, sessionCookie(session.id, w.secure));
	ctx.log.info('signed in on the web pages', {
		user: user.email,
		owner: user.isOwner,
		peer: w.req.socket.remoteAddress,
	});
	redirect(w.res, returnTo);
}

async function signOut(w: WebRequest, ctx: WebContext): Promise<void> {
	const session = sessionOf(w, ctx);
	if (session && !(await readPostedForm(w, ctx, session))) {
		return;
	}
	if (session) {
		ctx.sessions.delete(session.id);
		ctx.log.info('signed out of the web pages', { user: session.email });
	}
	addSetCookie(w.res, clearedSessionCookie(w.secure));
	sendPage(w.res, 200, renderSignedOutPage());
}

/** The token store's user id for an email (recorded now if the email is new). */
function userIdOf(ctx: WebContext, email: string): Promise<string> {
	return ctx.store.userIdFor(email, randomUUID(), ctx.wallClock());
}

function providerLabel(ctx: WebContext): { providerLabel?: string } {
	return ctx.options.signIn ? { providerLabel: ctx.options.signIn.label } : {};
}
