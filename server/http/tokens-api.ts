import type { IncomingMessage, ServerResponse } from 'node:http';
import { BerthError, errorMessage } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import { formatInitUrl } from '../../protocol/init-url';
import { isJwtShaped } from '../../protocol/jwt-shape';
import { parseDuration } from '../../protocol/proxy-config';
import type { Timers } from '../../protocol/timers';
import type { AgentKey } from '../auth/agent-key';
import type { BearerVerifier } from '../auth/bearer-verifier';
import { isTokenRole, type TokenRecord, type TokenRole, type TokenStore } from '../auth/token-store';
import type { UserTokens } from '../auth/user-tokens';
import type { AuthAttempts } from '../auth-throttle';
import { tokenAccepts, type ConnectionToken } from '../connection-token';
import type { Principal } from '../handshake/connection-types';
import { json, notAllowed, readBody } from './json-api';

/** A token's lifetime when the request names none. */
export const DEFAULT_TOKEN_TTL = '30d';

/** What the token endpoints need: the agent's accounts (`--accounts`). */
export interface TokensApiContext {
	readonly token: ConnectionToken;
	readonly timers: Timers;
	readonly attempts?: AuthAttempts;
	readonly bearer: BearerVerifier;
	readonly tokens: UserTokens;
	readonly store: TokenStore;
	readonly agentKey: AgentKey;
	/** `https://host:port` as this request reached the agent: the init URL's origin. */
	readonly origin: string;
}

/**
 * The token endpoints, with `Authorization: Bearer` the connection token (the owner: every
 * user's tokens) or a user token (its own user's tokens only):
 * - `POST /api/tokens` `{email, name?, role?, ttl?, prefix?}`: the token and its init URL, once;
 * - `GET /api/tokens`: the list (never the tokens themselves);
 * - `DELETE /api/tokens/ID`: revokes it; its sessions on this agent end at once.
 * Errors are JSON `{error, code}`.
 */
export async function handleTokensApi(
	req: IncomingMessage,
	res: ServerResponse,
	path: string,
	ctx: TokensApiContext,
): Promise<void> {
	const principal = await authenticate(req, res, ctx);
	if (!principal) {
		return;
	}
	try {
		if (path === '/api/tokens') {
			if (req.method === 'GET') {
				return json(res, 200, { tokens: (await listFor(principal, ctx)).map(describe) });
			}
			return req.method === 'POST' ? await create(req, res, principal, ctx) : notAllowed(res, 'GET, POST');
		}
		const match = /^\/api\/tokens\/([0-9A-Za-z_-]{1,64})$/.exec(path);
		if (match) {
			return req.method === 'DELETE'
				? await revoke(res, match[1]!, principal, ctx)
				: notAllowed(res, 'DELETE');
		}
		json(res, 404, {
			error: 'no such API: GET or POST /api/tokens, DELETE /api/tokens/ID',
			code: 'not_found',
		});
	} catch (error) {
		const usage = error instanceof BerthError && error.code === 'BERTH_ERR_USAGE';
		json(res, usage ? 400 : 500, { error: errorMessage(error), code: usage ? 'bad_request' : 'internal' });
	}
}

/** The caller: the owner (connection token) or a user (user token); answers 401/429 itself otherwise. */
async function authenticate(
	req: IncomingMessage,
	res: ServerResponse,
	ctx: TokensApiContext,
): Promise<Principal | undefined> {
	const retryAfterMs = ctx.attempts?.retryAfterMs() ?? 0;
	if (retryAfterMs > 0) {
		res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
		json(res, 429, { error: 'too many wrong tokens from this address', code: 'too_many_attempts' });
		return undefined;
	}
	const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
	if (bearer !== undefined && ctx.token.type === 'mandatory' && tokenAccepts(ctx.token, bearer)) {
		return { role: 'owner' };
	}
	const verdict = bearer !== undefined && isJwtShaped(bearer) ? await ctx.bearer.verify(bearer) : undefined;
	if (verdict?.type === 'accepted') {
		return { role: 'user', user: verdict.user };
	}
	if (bearer !== undefined) {
		ctx.attempts?.recordFailure();
	}
	res.setHeader('WWW-Authenticate', 'Bearer realm="berth"');
	const why = verdict?.type === 'refused' ? `the token was refused (${verdict.why})` : 'no valid token';
	json(res, 401, {
		error: `${why}: send Authorization: Bearer <connection token or user token>`,
		code: verdict?.type === 'refused' ? `token_${verdict.why.replace(/-/g, '_')}` : 'unauthorized',
	});
	return undefined;
}

async function listFor(principal: Principal, ctx: TokensApiContext): Promise<readonly TokenRecord[]> {
	return principal.role === 'user' ? ctx.store.list({ userId: principal.user.userId }) : ctx.store.list();
}

async function create(
	req: IncomingMessage,
	res: ServerResponse,
	principal: Principal,
	ctx: TokensApiContext,
): Promise<void> {
	let body: unknown;
	try {
		body = JSON.parse(await readBody(req, ctx.timers));
	} catch (error) {
		return json(res, 400, { error: `the body is not JSON: ${errorMessage(error)}`, code: 'bad_json' });
	}
	const request = parseCreateRequest(body, principal);
	if ('error' in request) {
		return json(res, request.status, { error: request.error, code: request.code });
	}
	const { jwt, record } = await ctx.tokens.issue(request);
	const initUrl = formatInitUrl(ctx.origin, {
		token: jwt,
		sessionPrefix: request.prefix,
		agentKey: ctx.agentKey.fingerprint,
	});
	json(res, 201, {
		...describe(record),
		token: jwt,
		init_url: initUrl,
		login: `berth login --init '${initUrl}'`,
	});
}

interface CreateRequest {
	readonly email: string;
	readonly name: string;
	readonly role: TokenRole;
	readonly ttlMs: number;
	readonly prefix: string;
}

type Refusal = { readonly error: string; readonly code: string; readonly status: number };

/** Validates a create request, and what the caller may ask: a user, tokens of its own and its own role only. */
function parseCreateRequest(body: unknown, principal: Principal): CreateRequest | Refusal {
	if (!isObject(body)) {
		return { error: 'the body must be an object {"email": ...}', code: 'bad_request', status: 400 };
	}
	const own = principal.role === 'user' ? principal.user : undefined;
	const email = body['email'] ?? own?.email;
	const role = body['role'] ?? own?.role ?? 'client';
	const ttl = body['ttl'] ?? DEFAULT_TOKEN_TTL;
	const ttlMs = isString(ttl) ? parseDuration(ttl) : undefined;
	if (!isString(email)) {
		return { error: 'email is required (the user the token is for)', code: 'bad_request', status: 400 };
	}
	if (!isTokenRole(role)) {
		return { error: 'role is client, provider or connector', code: 'bad_request', status: 400 };
	}
	if (ttlMs === undefined) {
		return { error: 'ttl is a duration such as 90s, 15m, 48h or 30d', code: 'bad_request', status: 400 };
	}
	if (own && (email.toLowerCase() !== own.email || role !== own.role)) {
		return {
			error: `a user token creates tokens for its own user (${own.email}) and role (${own.role}) only`,
			code: 'forbidden',
			status: 403,
		};
	}
	const name = isString(body['name']) ? body['name'] : '';
	const prefix = isString(body['prefix']) ? body['prefix'] : '';
	return { email, name, role, ttlMs, prefix };
}

async function revoke(
	res: ServerResponse,
	id: string,
	principal: Principal,
	ctx: TokensApiContext,
): Promise<void> {
	const record = await ctx.store.get(id);
	if (!record || (principal.role === 'user' && record.userId !== principal.user.userId)) {
		return json(res, 404, { error: `no token with id ${id}`, code: 'not_found' });
	}
	const revoked = await ctx.tokens.revoke(id);
	json(res, 200, describe(revoked ?? record));
}

/** A token as the API shows it: never the token, nor its hash. */
export function describe(record: TokenRecord): Record<string, string | null> {
	const iso = (ms: number | undefined): string | null =>
		ms === undefined ? null : new Date(ms).toISOString();
	return {
		id: record.id,
		user_id: record.userId,
		email: record.email,
		name: record.name,
		role: record.role,
		created_at: iso(record.createdAt),
		last_used_at: iso(record.lastUsedAt),
		expires_at: iso(record.expiresAt),
		revoked_at: iso(record.revokedAt),
	};
}
