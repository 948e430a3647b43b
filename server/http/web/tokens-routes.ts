import { BerthError, errorMessage } from '../../../protocol/errors';
import { formatInitUrl } from '../../../protocol/init-url';
import { parseDuration } from '../../../protocol/proxy-config';
import { isTokenRole, type TokenRecord } from '../../auth/token-store';
import { DEFAULT_TOKEN_LIFETIME, renderTokensPage, type TokensPageModel } from './tokens-page';
import type { WebContext, WebRequest } from './web-context';
import { readPostedForm, requireSession } from './web-guard';
import { redirect, sendPage } from './web-response';
import type { WebSession } from './web-sessions';

/**
 * The token page:
 * - `GET /tokens`: the create form and the list (the owner: every user's tokens);
 * - `POST /tokens` (name, ttl, role, email): creates one and shows it, with its init URL, in this
 *   answer only (never stored, never in a URL; the answer is not cached);
 * - `POST /tokens/revoke` (id): revokes it, which ends its sessions at once, then back to the list.
 * Users create client tokens for themselves; the owner any role, for any email.
 */
export async function serveTokens(w: WebRequest, ctx: WebContext): Promise<void> {
	const session = requireSession(w, ctx);
	if (!session) {
		return;
	}
	if (w.req.method === 'GET') {
		const revoked = w.url.searchParams.get('revoked');
		return showTokens(w, ctx, session, {
			...(revoked !== null ? { notice: await revokedNotice(ctx, session, revoked) } : {}),
		});
	}
	const form = await readPostedForm(w, ctx, session);
	if (!form) {
		return;
	}
	return w.url.pathname === '/tokens/revoke' ? revoke(w, ctx, session, form) : create(w, ctx, session, form);
}

async function showTokens(
	w: WebRequest,
	ctx: WebContext,
	session: WebSession,
	extra: Partial<TokensPageModel>,
	status = 200,
): Promise<void> {
	const tokens = await visibleTokens(ctx, session);
	sendPage(w.res, status, renderTokensPage({ session, tokens, now: ctx.wallClock(), ...extra }));
}

async function create(
	w: WebRequest,
	ctx: WebContext,
	session: WebSession,
	form: URLSearchParams,
): Promise<void> {
	const ttl = form.get('ttl') || DEFAULT_TOKEN_LIFETIME;
	const ttlMs = parseDuration(ttl);
	const role = form.get('role') || 'client';
	const email = session.isOwner ? (form.get('email') ?? '').trim() || session.email : session.email;
	const problem =
		ttlMs === undefined
			? 'The lifetime is a duration such as 30d.'
			: !isTokenRole(role)
				? 'The role is client, provider or connector.'
				: role !== 'client' && !session.isOwner
					? 'Only the agent’s owner creates provider and connector tokens.'
					: undefined;
	if (problem !== undefined || ttlMs === undefined || !isTokenRole(role)) {
		return showTokens(w, ctx, session, { error: problem }, 400);
	}
	try {
		const own = email.toLowerCase() === session.email;
		const { jwt, record } = await ctx.tokens.issue({
			email,
			name: form.get('name') ?? '',
			role,
			ttlMs,
			...(own ? { userId: session.userId } : {}),
		});
		const initUrl = formatInitUrl(w.origin, {
			token: jwt,
			sessionPrefix: '',
			agentKey: ctx.agentKey.fingerprint,
		});
		ctx.log.info('token created on the web pages', {
			token: record.id,
			user: record.email,
			by: session.email,
		});
		return showTokens(w, ctx, session, { created: { jwt, initUrl, record } }, 201);
	} catch (error) {
		if (error instanceof BerthError && error.code === 'BERTH_ERR_USAGE') {
			return showTokens(w, ctx, session, { error: errorMessage(error) }, 400);
		}
		throw error;
	}
}

async function revoke(
	w: WebRequest,
	ctx: WebContext,
	session: WebSession,
	form: URLSearchParams,
): Promise<void> {
	const id = form.get('id') ?? '';
	const record = /^[0-9A-Za-z_-]{1,64}$/.test(id) ? await ctx.store.get(id) : undefined;
	if (!record || !mayManage(session, record)) {
		return showTokens(
			w,
			ctx,
			session,
			{ error: 'There is no such token of yours: it may have been removed.' },
			404,
		);
	}
	await ctx.tokens.revoke(id);
	ctx.log.info('token revoked on the web pages', { token: id, user: record.email, by: session.email });
	redirect(w.res, `/tokens?revoked=${encodeURIComponent(id)}`);
}

/** The owner manages every token; a user, its own. */
function mayManage(session: WebSession, record: TokenRecord): boolean {
	return session.isOwner || record.userId === session.userId;
}

function visibleTokens(ctx: WebContext, session: WebSession): Promise<readonly TokenRecord[]> {
	return session.isOwner ? ctx.store.list() : ctx.store.list({ userId: session.userId });
}

/** What the list says after a revocation (the id comes from the address bar: a name only if the token is the user's). */
async function revokedNotice(ctx: WebContext, session: WebSession, id: string): Promise<string> {
	const record = /^[0-9A-Za-z_-]{1,64}$/.test(id) ? await ctx.store.get(id) : undefined;
	const name = record?.name && mayManage(session, record) ? `“${record.name}”` : 'The token';
	return `${name} is revoked: its sessions have ended.`;
}
