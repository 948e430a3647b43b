import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import type { AuthAttempts } from '../auth-throttle';
import { tokenAccepts, type ConnectionToken } from '../connection-token';
import type { ConnectorTokens } from '../connector-tokens';
import type { ProviderPool } from '../forward/provider-pool';
import type { Timers } from '../../protocol/timers';
import { json, notAllowed, readBody } from './json-api';
import type { AgentClientInfo } from '../../protocol/rpc';

/** What `GET /api/status` reports, and what the connector endpoints change. */
export interface ProxyApiContext {
	readonly token: ConnectionToken;
	readonly timers: Timers;
	readonly attempts?: AuthAttempts;
	readonly providers?: ProviderPool;
	readonly connectorTokens?: ConnectorTokens;
	/** Connected clients, streams, and connectors per connector-token id, now. */
	readonly counts: () => {
		readonly clients: number;
		readonly streams: number;
		readonly connectors: ReadonlyMap<string, number>;
		/** Who is connected: each session, with its user (a user token's email) and the name it gave. */
		readonly sessions: readonly AgentClientInfo[];
	};
}

/**
 * LinkSocks-style automation on the agent's port, under `/api/`, authenticated with
 * `Authorization: Bearer <connection token>` only (no cookie: a page on another site cannot
 * send this header without a CORS preflight, which is never answered):
 * - `GET /api/status`: clients, providers (name, session), connectors (token id, sessions), streams;
 * - `POST /api/connectors` with `{"token": "..."}`: adds a connector token, answers `{"id": ...}`;
 * - `DELETE /api/connectors/ID`: removes it, and its connectors' sessions end at once.
 * Tokens appear only in bodies, never in a URL (so never in a logged one).
 */
export function handleProxyApi(
	req: IncomingMessage,
	res: ServerResponse,
	path: string,
	ctx: ProxyApiContext,
): void {
	const retryAfterMs = ctx.attempts?.retryAfterMs() ?? 0;
	if (retryAfterMs > 0) {
		res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
		return json(res, 429, { error: 'too many wrong tokens from this address' });
	}
	const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
	if (ctx.token.type !== 'mandatory' || !tokenAccepts(ctx.token, bearer)) {
		if (bearer !== undefined) {
			ctx.attempts?.recordFailure();
		}
		res.setHeader('WWW-Authenticate', 'Bearer realm="berth"');
		const why =
			ctx.token.type === 'mandatory'
				? 'send Authorization: Bearer <connection token>'
				: 'the API needs the agent to run with a connection token';
		return json(res, 401, { error: why });
	}
	if (path === '/api/status') {
		return req.method === 'GET' ? json(res, 200, status(ctx)) : notAllowed(res, 'GET');
	}
	if (path === '/api/connectors') {
		return req.method === 'POST' ? void addConnector(req, res, ctx) : notAllowed(res, 'POST');
	}
	const match = /^\/api\/connectors\/([0-9a-f-]{36})$/.exec(path);
	if (match) {
		return req.method === 'DELETE' ? removeConnector(res, match[1]!, ctx) : notAllowed(res, 'DELETE');
	}
	json(res, 404, { error: 'no such API: GET /api/status, POST /api/connectors, DELETE /api/connectors/ID' });
}

function status(ctx: ProxyApiContext): unknown {
	const counts = ctx.counts();
	return {
		clients: counts.clients,
		streams: counts.streams,
		sessions: counts.sessions.map(({ id, kind, address, name, user, sessionName }) => ({
			id,
			kind,
			address,
			name,
			user,
			session_name: sessionName,
		})),
		providers: ctx.providers?.list() ?? [],
		connectors: (ctx.connectorTokens?.ids() ?? []).map((id) => ({
			id,
			sessions: counts.connectors.get(id) ?? 0,
		})),
	};
}

async function addConnector(req: IncomingMessage, res: ServerResponse, ctx: ProxyApiContext): Promise<void> {
	const tokens = ctx.connectorTokens;
	if (!tokens) {
		return json(res, 409, { error: 'this agent relays to no providers: start it with berth server -r' });
	}
	let body: unknown;
	try {
		body = JSON.parse(await readBody(req, ctx.timers));
	} catch (error) {
		return json(res, 400, { error: `the body is not JSON {"token": "..."}: ${errorMessage(error)}` });
	}
	const token = isObject(body) ? body['token'] : undefined;
	if (!isString(token)) {
		return json(res, 400, { error: 'the body must be {"token": "..."}' });
	}
	if (ctx.token.type === 'mandatory' && token === ctx.token.value) {
		return json(res, 400, {
			error: "that is the agent's connection token: a connector needs a token of its own",
		});
	}
	try {
		json(res, 201, { id: tokens.add(token, 'the token') });
	} catch (error) {
		json(res, 400, { error: errorMessage(error) });
	}
}

function removeConnector(res: ServerResponse, id: string, ctx: ProxyApiContext): void {
	if (!ctx.connectorTokens?.remove(id)) {
		return json(res, 404, { error: `no connector token with id ${id}` });
	}
	res.writeHead(204);
	res.end();
}
