import { readCookie } from '../read-cookie';
import { CSRF_FIELD, csrfMatches, isSameOrigin } from './csrf';
import { readFields } from './form-body';
import { renderError, renderPage } from './page-shell';
import { SESSION_COOKIE } from './session-cookie';
import type { WebContext, WebRequest } from './web-context';
import { redirect, sendPage } from './web-response';
import type { WebSession } from './web-sessions';

/** The request's live browser session, if its cookie names one. */
export function sessionOf(w: WebRequest, ctx: WebContext): WebSession | undefined {
	return ctx.sessions.get(readCookie(w.req.headers.cookie, SESSION_COOKIE));
}

/**
 * The session of a page that needs one; otherwise sends the browser to sign in, coming back to
 * this page afterwards, and answers undefined.
 */
export function requireSession(w: WebRequest, ctx: WebContext): WebSession | undefined {
	const session = sessionOf(w, ctx);
	if (!session) {
		redirect(w.res, `/auth/login?return=${encodeURIComponent(w.url.pathname + w.url.search)}`);
	}
	return session;
}

/**
 * A POST from one of the agent's own pages: same origin (csrf.ts), a form body, and, when
 * `session` is given, its CSRF token. Answers 403 or 400 itself and resolves undefined otherwise.
 */
export async function readPostedForm(
	w: WebRequest,
	ctx: WebContext,
	session: WebSession | undefined,
): Promise<URLSearchParams | undefined> {
	if (!isSameOrigin(w.req.headers, w.origin)) {
		refuse(
			w,
			403,
			'This form did not come from this agent’s own page, so it was refused. Open the page again and retry.',
		);
		return undefined;
	}
	const form = await readFields(w.req, ctx.timers);
	if (!form) {
		refuse(w, 400, 'The form could not be read. Open the page again and retry.');
		return undefined;
	}
	if (session && !csrfMatches(session.csrf, form.get(CSRF_FIELD))) {
		refuse(
			w,
			403,
			'This form has expired or did not come from this agent’s page (CSRF check). Open the page again and retry.',
		);
		return undefined;
	}
	return form;
}

/** A page that only says what went wrong, with a way back. */
export function refuse(w: WebRequest, status: number, message: string, session?: WebSession): void {
	sendPage(
		w.res,
		status,
		renderPage({
			title: 'Refused',
			section: 'sign-in',
			...(session ? { session } : {}),
			body: `<h1>That did not work</h1>${renderError(message)}<p><a href="/tokens">Back to the token page</a></p>`,
		}),
	);
}
