import { escapeHtml } from '../status-page';
import { renderError, renderPage } from './page-shell';

export interface SignInPageModel {
	/** Where signing in leads (return-path.ts has checked it). */
	readonly returnTo: string;
	readonly error?: string;
	readonly notice?: string;
	/** With an identity provider: its link's text (web-sign-in.ts). */
	readonly providerLabel?: string;
}

/**
 * The sign-in page: the provider's link when there is one, and the owner's form (the connection
 * token, posted to /auth/login; never in a URL).
 */
export function renderSignInPage(model: SignInPageModel): string {
	const returnTo = escapeHtml(model.returnTo);
	const provider = model.providerLabel
		? `<section class="card narrow"><h2>Users</h2><p><a href="/auth/login?return=${encodeURIComponent(model.returnTo)}">${escapeHtml(model.providerLabel)}</a></p></section>`
		: '';
	const body = `<h1>Sign in to this Berth agent</h1>
${renderError(model.error)}${model.notice ? `<p class="notice" role="status">${escapeHtml(model.notice)}</p>` : ''}
${provider}<section class="card narrow" aria-labelledby="owner-title"><h2 id="owner-title">Agent owner</h2>
<p class="hint">Paste the agent's connection token: on the agent's host it is in <code>~/.config/berth/token</code>, unless the agent was started with <code>--connection-token-file</code>.</p>
<form method="post" action="/auth/login"><input type="hidden" name="return" value="${returnTo}">
<div class="field"><label for="token">Connection token</label><input id="token" name="token" type="password" required autocomplete="off" autofocus></div>
<div class="actions"><button type="submit" class="primary">Sign in</button></div></form></section>`;
	return renderPage({ title: 'Sign in', section: 'sign-in', body });
}

/** What signing out answers. */
export function renderSignedOutPage(): string {
	return renderPage({
		title: 'Signed out',
		section: 'sign-in',
		body: '<h1>Signed out</h1><p>You are signed out of this agent. Your tokens still work until they expire or are revoked.</p><p><a href="/auth/login">Sign in again</a></p>',
	});
}
