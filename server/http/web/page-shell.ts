import { escapeHtml } from '../status-page';
import { CSRF_FIELD } from './csrf';
import type { WebSession } from './web-sessions';
import { WEB_ICON_PATH } from './web-icon';
import { WEB_STYLE_PATH } from './web-style';

/** Which page of the bar is current. */
export type WebSection = 'tokens' | 'device' | 'sign-in';

export interface PageOptions {
	readonly title: string;
	readonly section: WebSection;
	/** The signed-in session: its user and a sign-out button in the bar. */
	readonly session?: WebSession;
	/** The page's own HTML (escaped by its renderer). */
	readonly body: string;
	/** Scripts from the agent (paths), loaded at the end of the body. */
	readonly scripts?: readonly string[];
}

/** A whole page: the bar (Berth, Tokens, Connect a device, who is signed in, Sign out) and the body. */
export function renderPage(options: PageOptions): string {
	const scripts = (options.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}"></script>`).join('');
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · Berth</title><link rel="icon" href="${WEB_ICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${WEB_STYLE_PATH}"></head>
<body><header class="bar"><a class="brand" href="/tokens"><img src="${WEB_ICON_PATH}" alt="" width="24" height="24">Berth</a>${renderNav(options)}${renderWho(options.session)}</header>
<main>
${options.body}
</main>${scripts}</body></html>
`;
}

function renderNav(options: PageOptions): string {
	if (!options.session) {
		return '<nav></nav>';
	}
	const link = (href: string, section: WebSection, text: string): string =>
		`<a href="${href}"${options.section === section ? ' aria-current="page"' : ''}>${text}</a>`;
	return `<nav>${link('/tokens', 'tokens', 'Tokens')}${link('/auth/device', 'device', 'Connect a device')}</nav>`;
}

function renderWho(session: WebSession | undefined): string {
	if (!session) {
		return '';
	}
	return (
		`<div class="who"><span>Signed in as <strong>${escapeHtml(session.email)}</strong>` +
		`${session.isOwner ? ' (agent owner)' : ''}</span>` +
		`<form method="post" action="/auth/logout">${csrfInput(session)}<button class="link">Sign out</button></form></div>`
	);
}

/** The hidden CSRF field every form of a signed-in page carries. */
export function csrfInput(session: WebSession): string {
	return `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(session.csrf)}">`;
}

/** An error box (role=alert, so screen readers announce it). */
export function renderError(message: string | undefined): string {
	return message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '';
}
