import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../protocol/errors';
import type { AuthAttempts } from '../auth-throttle';
import { tokenAccepts, type ConnectionToken } from '../connection-token';
import { isAllowedHost } from './host-check';
import { renderStatusPage, type AgentStatus } from './status-page';
import { handleProxyApi, type ProxyApiContext } from './proxy-api';
import { renderInitPage } from './init-page';
import { readCookie } from './read-cookie';
import { handleTokensApi, type TokensApiContext } from './tokens-api';
import type { WebApp } from './web/web-app';

/** VS Code's names: the query parameter and the cookie that carry the connection token. */
export const TOKEN_QUERY_PARAM = 'tkn';
export const TOKEN_COOKIE = 'vscode-tkn';
/** The cookie lives a week, as VS Code's does. */
const TOKEN_COOKIE_MAX_AGE_S = 7 * 24 * 60 * 60;

export interface HttpContext {
	readonly token: ConnectionToken;
	readonly listenHost: string;
	/** Served over TLS: the token cookie is then `Secure` (never sent over plain HTTP). */
	readonly secure?: boolean;
	readonly commit: string;
	readonly status: () => AgentStatus;
	/** Token guessing from this request's source address (none: no throttle). */
	readonly attempts?: AuthAttempts;
	/** The automation API under /api/ (proxy-api.ts). */
	readonly api: ProxyApiContext;
	/** The token endpoints (`--accounts`), all but the origin, which each request gives. */
	readonly accounts?: Omit<TokensApiContext, 'origin'>;
	/** The web pages for people (`--accounts`): sign-in, /tokens, the device flow (web/web-app.ts). */
	readonly web?: Pick<WebApp, 'serves' | 'handle'>;
}

/**
 * The agent's plain HTTP: `GET /version` (the commit, no token), `GET /?tkn=T` (sets the token
 * cookie and redirects to drop the token from the address bar), `GET /` with the cookie (a status
 * page), the automation API under /api/ (Bearer token: proxy-api.ts), and with `--accounts` the
 * web pages for people (sign-in, /tokens, /auth/device: web/web-app.ts). Anything else without a valid token is 403, as on VS Code's server. A wrong token
 * counts against its source's guesses; a source with none left gets 429 before its token is read.
 */
export function handleHttpRequest(req: IncomingMessage, res: ServerResponse, ctx: HttpContext): void {
	res.setHeader('Cache-Control', 'no-store');
	res.setHeader('X-Content-Type-Options', 'nosniff');
	res.setHeader('Referrer-Policy', 'no-referrer');
	const path = new URL(req.url ?? '/', 'http://localhost').pathname;
	if (path.startsWith('/api/')) {
		if (!isAllowedHost(req.headers.host, ctx.listenHost)) {
			return send(
				res,
				403,
				'Forbidden: this agent listens on loopback and answers only loopback host names.',
			);
		}
		if (path === '/api/tokens' || path.startsWith('/api/tokens/')) {
			return serveTokensApi(req, res, path, ctx);
		}
		return handleProxyApi(req, res, path, ctx.api);
	}
	if (path.startsWith('/p/') && req.method === 'GET') {
		res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
		res.setHeader('Content-Type', 'text/html; charset=utf-8');
		res.writeHead(200);
		res.end(renderInitPage(originOf(req) + path));
		return;
	}
	if (ctx.web?.serves(path)) {
		if (!isAllowedHost(req.headers.host, ctx.listenHost)) {
			return send(
				res,
				403,
				'Forbidden: this agent listens on loopback and answers only loopback host names.',
			);
		}
		return ctx.web.handle(req, res, {
			origin: originOf(req),
			secure: isEncrypted(req),
			...(ctx.attempts ? { attempts: ctx.attempts } : {}),
		});
	}
	if (req.method !== 'GET') {
		res.setHeader('Allow', 'GET');
		return send(res, 405, 'Method Not Allowed.');
	}
	if (!isAllowedHost(req.headers.host, ctx.listenHost)) {
		return send(res, 403, 'Forbidden: this agent listens on loopback and answers only loopback host names.');
	}
	const url = new URL(req.url ?? '/', 'http://localhost');
	if (url.pathname === '/version') {
		res.setHeader('Content-Type', 'text/plain; charset=utf-8');
		res.writeHead(200);
		res.end(ctx.commit); // exactly the commit, as VS Code's server answers
		return;
	}
	const queryToken = url.searchParams.get(TOKEN_QUERY_PARAM);
	// As VS Code does: a token in the query decides on its own; otherwise the cookie does.
	const presented = queryToken ?? readCookie(req.headers.cookie, TOKEN_COOKIE);
	const retryAfterMs = presented !== undefined ? (ctx.attempts?.retryAfterMs() ?? 0) : 0;
	if (retryAfterMs > 0 && ctx.token.type === 'mandatory') {
		res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
		return send(res, 429, 'Too Many Requests: too many wrong tokens from this address.');
	}
	if (!tokenAccepts(ctx.token, presented)) {
		if (presented !== undefined) {
			ctx.attempts?.recordFailure();
		}
		return send(res, 403, 'Forbidden.');
	}
	if (url.pathname !== '/') {
		return send(res, 404, 'Not Found.');
	}
	if (queryToken !== null && ctx.token.type === 'mandatory') {
		url.searchParams.delete(TOKEN_QUERY_PARAM);
		res.setHeader(
			'Set-Cookie',
			`${TOKEN_COOKIE}=${queryToken}; Max-Age=${TOKEN_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict; Path=/` +
				(ctx.secure ? '; Secure' : ''),
		);
		res.setHeader('Location', url.pathname + url.search);
		return send(res, 302, 'Found.');
	}
	res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
	res.setHeader('Content-Type', 'text/html; charset=utf-8');
	res.writeHead(200);
	res.end(renderStatusPage(ctx.status()));
}

function serveTokensApi(req: IncomingMessage, res: ServerResponse, path: string, ctx: HttpContext): void {
	if (!ctx.accounts) {
		res.setHeader('Content-Type', 'application/json; charset=utf-8');
		res.writeHead(404);
		res.end(
			JSON.stringify({ error: 'this agent has no accounts: start it with --accounts', code: 'no_accounts' }) +
				'\n',
		);
		return;
	}
	handleTokensApi(req, res, path, { ...ctx.accounts, origin: originOf(req) }).catch((error: unknown) => {
		// The store failed: the caller learns it, and nothing else is harmed.
		if (!res.headersSent) {
			res.setHeader('Content-Type', 'application/json; charset=utf-8');
			res.writeHead(503);
		}
		res.end(
			JSON.stringify({ error: `the token store failed: ${errorMessage(error)}`, code: 'store' }) + '\n',
		);
	});
}

/** `https://host:port` as the client reached the agent (the Host header, already checked). */
function originOf(req: IncomingMessage): string {
	return `${isEncrypted(req) ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}

/** Whether the request came over TLS. */
function isEncrypted(req: IncomingMessage): boolean {
	return (req.socket as { encrypted?: boolean }).encrypted === true;
}

function send(res: ServerResponse, status: number, text: string): void {
	res.setHeader('Content-Type', 'text/plain; charset=utf-8');
	res.writeHead(status);
	res.end(text + '\n');
}
