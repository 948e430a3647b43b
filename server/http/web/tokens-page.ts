import type { TokenRecord, TokenRole } from '../../auth/token-store';
import { escapeHtml } from '../status-page';
import { csrfInput, renderError, renderPage } from './page-shell';
import { TOKENS_SCRIPT_PATH } from './tokens-script';
import type { WebSession } from './web-sessions';

/** The lifetimes the create form offers (durations as protocol/proxy-config.ts parses them). */
export const TOKEN_LIFETIMES: readonly (readonly [value: string, label: string])[] = [
	['1d', '1 day'],
	['7d', '7 days'],
	['30d', '30 days'],
	['90d', '90 days'],
	['365d', '1 year'],
];
/** The lifetime chosen unless the user picks another. */
export const DEFAULT_TOKEN_LIFETIME = '30d';

/** What each role may do, for the form's choices. */
const ROLE_LABELS: Readonly<Record<TokenRole, string>> = {
	client: 'client',
	provider: 'provider (a proxy exit too)',
	connector: 'connector (relay only)',
};
/** Characters per line the shown-once fields are sized for (a line of the card at full width). */
const COPY_FIELD_LINE_CHARS = 100;
/** The most lines a shown-once field takes before it scrolls. */
const MAX_COPY_FIELD_ROWS = 8;

/** A token just created: shown once, in this answer only. */
export interface CreatedToken {
	readonly jwt: string;
	readonly initUrl: string;
	readonly record: TokenRecord;
}

export interface TokensPageModel {
	readonly session: WebSession;
	/** The tokens the user may see: its own, or every user's for the owner. */
	readonly tokens: readonly TokenRecord[];
	/** Wall clock (ms): which tokens have expired. */
	readonly now: number;
	readonly created?: CreatedToken;
	readonly error?: string;
	readonly notice?: string;
}

/** The token page: what was just created (once), the create form, the list with Revoke on each row. */
export function renderTokensPage(model: TokensPageModel): string {
	const body = [
		'<h1>Tokens</h1>',
		'<p class="lead">A token lets <code>berth</code> and VS Code connect to this agent as you. ' +
			'Revoking one ends its sessions at once.</p>',
		renderError(model.error),
		model.notice ? `<p class="notice" role="status">${escapeHtml(model.notice)}</p>` : '',
		model.created ? renderCreated(model.created) : '',
		renderCreateForm(model.session),
		renderList(model),
	].join('\n');
	return renderPage({
		title: 'Tokens',
		section: 'tokens',
		session: model.session,
		body,
		...(model.created ? { scripts: [TOKENS_SCRIPT_PATH] } : {}),
	});
}

function renderCreated(created: CreatedToken): string {
	const command = `berth login --init '${created.initUrl}'`;
	const who = created.record.name
		? `“${escapeHtml(created.record.name)}” for ${escapeHtml(created.record.email)}`
		: `for ${escapeHtml(created.record.email)}`;
	return `<section class="card created" aria-labelledby="created-title">
<h2 id="created-title">Token created ${who}</h2>
<p class="warn"><strong>Copy it now: it is shown only once.</strong> Keep it secret, like a password.</p>
${copyField('login-command', 'On the machine you connect from, in the folder you work in, run:', command, true)}
${copyField('init-url', 'Init URL (VS Code: Berth: Connect with Init URL...)', created.initUrl, false)}
${copyField('token-value', 'The token alone (for --token-file or $BERTH_TOKEN)', created.jwt, false)}
</section>`;
}

function copyField(id: string, label: string, value: string, focus: boolean): string {
	const rows = Math.min(MAX_COPY_FIELD_ROWS, Math.ceil(value.length / COPY_FIELD_LINE_CHARS));
	return `<div class="field"><label for="${id}">${escapeHtml(label)}</label>
<div class="copy-row"><textarea id="${id}" rows="${rows}" readonly spellcheck="false"${focus ? ' autofocus' : ''}>${escapeHtml(value)}</textarea>
<button type="button" data-copy="${id}" hidden aria-label="Copy: ${escapeHtml(label)}">Copy</button></div></div>`;
}

function renderCreateForm(session: WebSession): string {
	const lifetimes = TOKEN_LIFETIMES.map(
		([value, label]) =>
			`<option value="${value}"${value === DEFAULT_TOKEN_LIFETIME ? ' selected' : ''}>${label}</option>`,
	).join('');
	const email = session.isOwner
		? `<div class="field"><label for="email">For (email)</label><input id="email" name="email" type="email" required maxlength="254" value="${escapeHtml(session.email)}"></div>`
		: '';
	const role = session.isOwner
		? `<div class="field"><label for="role">Role</label><select id="role" name="role">${(
				Object.entries(ROLE_LABELS) as [TokenRole, string][]
			)
				.map(([value, label]) => `<option value="${value}">${escapeHtml(label)}</option>`)
				.join('')}</select></div>`
		: `<div class="field"><span class="label">Role</span><span>client (forwards and proxies)</span></div>`;
	return `<section class="card" aria-labelledby="create-title"><h2 id="create-title">Create a token</h2>
<form method="post" action="/tokens" class="form-grid">${csrfInput(session)}
<div class="field"><label for="name">Name</label><input id="name" name="name" maxlength="128" placeholder="laptop" autocomplete="off"></div>
${email}<div class="field"><label for="ttl">Lifetime</label><select id="ttl" name="ttl">${lifetimes}</select></div>
${role}<div class="field"><button type="submit" class="primary">Create token</button></div>
</form></section>`;
}

function renderList(model: TokensPageModel): string {
	const owner = model.session.isOwner;
	const title = owner ? 'All tokens' : 'Your tokens';
	if (model.tokens.length === 0) {
		return `<section class="card" aria-labelledby="list-title"><h2 id="list-title">${title}</h2><p>No tokens yet.</p></section>`;
	}
	const rows = [...model.tokens]
		.sort((a, b) => b.createdAt - a.createdAt)
		.map((record) => renderRow(record, model))
		.join('\n');
	return (
		`<section class="card" aria-labelledby="list-title"><h2 id="list-title">${title}</h2>
<p class="hint">Times are UTC.</p><div class="table-wrap"><table><thead><tr><th scope="col">Name</th>${owner ? '<th scope="col">User</th>' : ''}<th scope="col">Role</th>` +
		`<th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th>` +
		`<th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`
	);
}

function renderRow(record: TokenRecord, model: TokensPageModel): string {
	const status = statusOf(record, model.now);
	const name = record.name || '(no name)';
	const revoke =
		status === 'active'
			? `<form method="post" action="/tokens/revoke">${csrfInput(model.session)}` +
				`<input type="hidden" name="id" value="${escapeHtml(record.id)}">` +
				`<button class="danger" aria-label="Revoke ${escapeHtml(name)} (${escapeHtml(record.email)}, created ${plainTime(record.createdAt)})">Revoke</button></form>`
			: '';
	const revokedAt = status === 'revoked' ? ` <span class="hint">${formatTime(record.revokedAt)}</span>` : '';
	return (
		`<tr id="token-${escapeHtml(record.id)}" class="${status}"><td>${escapeHtml(name)}</td>` +
		(model.session.isOwner ? `<td>${escapeHtml(record.email)}</td>` : '') +
		`<td class="role">${record.role}</td><td>${formatTime(record.createdAt)}</td>` +
		`<td>${record.lastUsedAt !== undefined ? formatTime(record.lastUsedAt) : 'never'}</td>` +
		`<td>${formatTime(record.expiresAt)}</td><td><span class="badge ${status}">${capitalize(status)}</span>${revokedAt}</td><td>${revoke}</td></tr>`
	);
}

type TokenStatus = 'active' | 'expired' | 'revoked';

function statusOf(record: TokenRecord, now: number): TokenStatus {
	if (record.revokedAt !== undefined) {
		return 'revoked';
	}
	return record.expiresAt <= now ? 'expired' : 'active';
}

/** `2026-05-01 14:03`, in a <time> element with the exact instant (the list says its times are UTC). */
function formatTime(ms: number | undefined): string {
	if (ms === undefined) {
		return '';
	}
	const iso = new Date(ms).toISOString();
	return `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)}</time>`;
}

/** `2026-05-01 14:03 UTC`. */
export function plainTime(ms: number): string {
	const iso = new Date(ms).toISOString();
	return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
