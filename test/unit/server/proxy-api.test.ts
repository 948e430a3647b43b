import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Mux } from '../../../protocol/mux';
import { ResetCode } from '../../../protocol/mux-frames';
import type { AuthAttempts } from '../../../server/auth-throttle';
import type { ConnectionToken } from '../../../server/connection-token';
import { ConnectorTokens } from '../../../server/connector-tokens';
import { ProviderPool } from '../../../server/forward/provider-pool';
import { handleProxyApi, type ProxyApiContext } from '../../../server/http/proxy-api';
import { createNullLogger } from '../../../server/shared/log';
import { channelPair } from '../../helpers/channel-pair';
import { ManualTimers } from '../../helpers/manual-timers';
import { waitFor } from '../../helpers/wait';

const AGENT_TOKEN = 'agent-token-0123456789';
const CONNECTOR_TOKEN = 'connector-token-0123456789';
const API_BODY_LIMIT_BYTES = 16 * 1024;
const API_BODY_TIMEOUT_MS = 10_000;

interface Reply {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	readonly text: string;
	readonly json: unknown;
}

/** Wrong tokens counted, and a source that has used up its guesses when `retryAfterMs` is set. */
function attempts(retryAfterMs = 0): AuthAttempts & { failures: number } {
	const counter = {
		failures: 0,
		retryAfterMs: () => retryAfterMs,
		recordFailure: () => ++counter.failures,
	};
	return counter;
}

function providerMux(): Mux {
	const [agentEnd] = channelPair();
	return new Mux({
		channel: agentEnd.channel,
		role: 'agent',
		onOpen: (stream) => stream.reset(ResetCode.Rejected, 'no'),
		onRpc: () => undefined,
		onProtocolError: (m) => assert.fail(m),
	});
}

/**
 * The API on a real loopback HTTP server (the port the OS picks), with a relay's state: one
 * provider, connector tokens (unless `relay: false`), and fixed counts.
 */
async function startApi(
	t: TestContext,
	options: { relay?: boolean; token?: ConnectionToken; attempts?: AuthAttempts } = {},
) {
	const timers = new ManualTimers();
	const providers = new ProviderPool(timers, createNullLogger());
	providers.add({ name: 'eu' }, providerMux(), 'session-1');
	const connectorTokens = options.relay === false ? undefined : new ConnectorTokens();
	const connectorSessions = new Map<string, number>();
	const ctx: ProxyApiContext = {
		token: options.token ?? { type: 'mandatory', value: AGENT_TOKEN, source: 'flag' },
		timers,
		...(options.attempts ? { attempts: options.attempts } : {}),
		providers,
		...(connectorTokens ? { connectorTokens } : {}),
		counts: () => ({
			clients: 3,
			streams: 7,
			connectors: connectorSessions,
			sessions: [
				{
					id: 'streams#4',
					kind: 'streams',
					address: '127.0.0.1:40000',
					name: 'alice@laptop',
					user: 'alice@example.com',
					since: 0,
					forwards: [],
					streams: 7,
					isSelf: false,
				},
			],
		}),
	};
	const server = createServer((req, res) => {
		handleProxyApi(req, res, new URL(req.url ?? '/', 'http://localhost').pathname, ctx);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.after(async () => {
		server.closeAllConnections();
		await new Promise<void>((resolve) => server.close(() => resolve()));
		providers.dispose();
		connectorTokens?.dispose();
	});
	const port = (server.address() as AddressInfo).port;
	const call = (
		method: string,
		path: string,
		init: { bearer?: string | null; authorization?: string; body?: string | Buffer } = {},
	): Promise<Reply> =>
		new Promise((resolve, reject) => {
			const bearer = init.bearer === undefined ? AGENT_TOKEN : init.bearer;
			const headers: Record<string, string> = {};
			if (init.authorization !== undefined) {
				headers['Authorization'] = init.authorization;
			} else if (bearer !== null) {
				headers['Authorization'] = `Bearer ${bearer}`;
			}
			if (init.body !== undefined) {
				headers['Content-Type'] = 'application/json';
			}
			const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString();
					let json: unknown;
					try {
						json = text ? JSON.parse(text) : undefined;
					} catch {
						json = undefined;
					}
					resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
				});
				res.on('error', reject);
			});
			req.on('error', reject);
			req.end(init.body);
		});
	return { call, port, timers, connectorTokens, connectorSessions };
}

describe('handleProxyApi', () => {
	it('answers 401 with WWW-Authenticate to a request without a Bearer token', async (t) => {
		const counter = attempts();
		const { call } = await startApi(t, { attempts: counter });
		for (const init of [{ bearer: null }, { authorization: `Basic ${AGENT_TOKEN}` }]) {
			const reply = await call('GET', '/api/status', init);
			assert.equal(reply.status, 401);
			assert.equal(reply.headers['www-authenticate'], 'Bearer realm="berth"');
			assert.match((reply.json as { error: string }).error, /Authorization: Bearer/);
		}
		assert.equal(counter.failures, 0, 'no token is no guess');
	});

	it('answers 401 to a wrong Bearer token, and counts it as a guess', async (t) => {
		const counter = attempts();
		const { call } = await startApi(t, { attempts: counter });
		for (const bearer of ['wrong-token-0123456789', CONNECTOR_TOKEN, `${AGENT_TOKEN}x`]) {
			const reply = await call('GET', '/api/status', { bearer });
			assert.equal(reply.status, 401, bearer);
			assert.equal(reply.headers['www-authenticate'], 'Bearer realm="berth"');
		}
		assert.equal(counter.failures, 3);
	});

	it('answers 429 to a source out of guesses, before reading its token', async (t) => {
		const { call } = await startApi(t, { attempts: attempts(2_500) });
		const reply = await call('GET', '/api/status');
		assert.equal(reply.status, 429);
		assert.equal(reply.headers['retry-after'], '3');
	});

	it('answers 401 on an agent without a connection token, saying the API needs one', async (t) => {
		const { call } = await startApi(t, { token: { type: 'none' } });
		const reply = await call('GET', '/api/status');
		assert.equal(reply.status, 401);
		assert.match((reply.json as { error: string }).error, /needs the agent to run with a connection token/);
	});

	it('reports clients, streams, providers and connectors on GET /api/status', async (t) => {
		const { call, connectorTokens, connectorSessions } = await startApi(t);
		const id = connectorTokens!.add(CONNECTOR_TOKEN, 'the token');
		const idle = connectorTokens!.add('another-connector-token', 'the token');
		connectorSessions.set(id, 2);
		const reply = await call('GET', '/api/status');
		assert.equal(reply.status, 200);
		assert.match(String(reply.headers['content-type']), /^application\/json/);
		assert.deepEqual(reply.json, {
			clients: 3,
			streams: 7,
			sessions: [
				{
					id: 'streams#4',
					kind: 'streams',
					address: '127.0.0.1:40000',
					name: 'alice@laptop',
					user: 'alice@example.com',
				},
			],
			providers: [{ name: 'eu', session: 'session-1' }],
			connectors: [
				{ id, sessions: 2 },
				{ id: idle, sessions: 0 },
			],
		});
		assert.ok(!reply.text.includes(CONNECTOR_TOKEN), 'ids only, never a token');
	});

	it('adds a connector token on POST /api/connectors and answers 201 with its id', async (t) => {
		const { call, connectorTokens } = await startApi(t);
		const reply = await call('POST', '/api/connectors', { body: JSON.stringify({ token: CONNECTOR_TOKEN }) });
		assert.equal(reply.status, 201);
		const { id } = reply.json as { id: string };
		assert.ok(connectorTokens!.has(id));
		assert.ok(connectorTokens!.includes(CONNECTOR_TOKEN));
	});

	it('answers 400 to a body that is not {"token": ...} or a token that is not fit', async (t) => {
		const { call, connectorTokens } = await startApi(t);
		const bodies = [
			'{"token": ',
			'',
			'[]',
			JSON.stringify({ token: 42 }),
			JSON.stringify({ value: CONNECTOR_TOKEN }),
			JSON.stringify({ token: 'too-short' }),
			JSON.stringify({ token: 'has spaces in it, 0123456789' }),
			JSON.stringify({ token: AGENT_TOKEN }),
		];
		for (const body of bodies) {
			const reply = await call('POST', '/api/connectors', { body });
			assert.equal(reply.status, 400, body);
			assert.equal(typeof (reply.json as { error: unknown }).error, 'string');
		}
		assert.equal(connectorTokens!.size, 0);
	});

	it('refuses the agent’s own token as a connector’s, saying why', async (t) => {
		const { call } = await startApi(t);
		const reply = await call('POST', '/api/connectors', { body: JSON.stringify({ token: AGENT_TOKEN }) });
		assert.equal(reply.status, 400);
		assert.match((reply.json as { error: string }).error, /agent's connection token/);
	});

	it('answers 400 to a token it holds already', async (t) => {
		const { call } = await startApi(t);
		const body = JSON.stringify({ token: CONNECTOR_TOKEN });
		assert.equal((await call('POST', '/api/connectors', { body })).status, 201);
		assert.equal((await call('POST', '/api/connectors', { body })).status, 400);
	});

	it(`answers 400 to a body over ${API_BODY_LIMIT_BYTES} bytes`, async (t) => {
		const { call, connectorTokens } = await startApi(t);
		const body = JSON.stringify({ token: CONNECTOR_TOKEN, padding: 'x'.repeat(API_BODY_LIMIT_BYTES) });
		const reply = await call('POST', '/api/connectors', { body });
		assert.equal(reply.status, 400);
		assert.match((reply.json as { error: string }).error, /over 16384 bytes/);
		assert.equal(connectorTokens!.size, 0);
	});

	it('cuts a request whose body does not come within its time', async (t) => {
		const { port, timers, connectorTokens } = await startApi(t);
		const req = request({
			host: '127.0.0.1',
			port,
			method: 'POST',
			path: '/api/connectors',
			headers: { Authorization: `Bearer ${AGENT_TOKEN}`, 'Content-Length': '100' },
			agent: false,
		});
		const outcome = new Promise<string>((resolve) => {
			req.on('response', (res) => resolve(`a ${res.statusCode} response`));
			req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
		});
		req.write('{"token": "conn');
		await waitFor(() => timers.pending > 0, 'the API to start reading the body');
		timers.advance(API_BODY_TIMEOUT_MS);
		assert.equal(await outcome, 'ECONNRESET');
		assert.equal(connectorTokens!.size, 0);
	});

	it('answers 409 to POST /api/connectors on an agent that relays to no providers', async (t) => {
		const { call } = await startApi(t, { relay: false });
		const reply = await call('POST', '/api/connectors', { body: JSON.stringify({ token: CONNECTOR_TOKEN }) });
		assert.equal(reply.status, 409);
		assert.match((reply.json as { error: string }).error, /berth server -r/);
	});

	it('removes a connector token on DELETE, 204, then 404', async (t) => {
		const { call, connectorTokens } = await startApi(t);
		const id = connectorTokens!.add(CONNECTOR_TOKEN, 'the token');
		const removed: string[] = [];
		connectorTokens!.onDidRemove((gone) => removed.push(gone));
		const first = await call('DELETE', `/api/connectors/${id}`);
		assert.equal(first.status, 204);
		assert.equal(first.text, '');
		assert.deepEqual(removed, [id]);
		assert.ok(!connectorTokens!.has(id));
		const again = await call('DELETE', `/api/connectors/${id}`);
		assert.equal(again.status, 404);
		assert.match((again.json as { error: string }).error, new RegExp(id));
	});

	it('answers 404 to DELETE on an agent that relays to no providers', async (t) => {
		const { call } = await startApi(t, { relay: false });
		const reply = await call('DELETE', '/api/connectors/00000000-0000-4000-8000-000000000000');
		assert.equal(reply.status, 404);
	});

	it('answers 405 with Allow to a wrong method', async (t) => {
		const { call } = await startApi(t);
		const rows: [string, string, string][] = [
			['POST', '/api/status', 'GET'],
			['DELETE', '/api/status', 'GET'],
			['GET', '/api/connectors', 'POST'],
			['PUT', '/api/connectors', 'POST'],
			['GET', '/api/connectors/00000000-0000-4000-8000-000000000000', 'DELETE'],
		];
		for (const [method, path, allow] of rows) {
			const reply = await call(method, path);
			assert.equal(reply.status, 405, `${method} ${path}`);
			assert.equal(reply.headers['allow'], allow, `${method} ${path}`);
		}
	});

	it('answers 404 to an unknown path, naming what there is', async (t) => {
		const { call } = await startApi(t);
		for (const path of [
			'/api/',
			'/api/nope',
			'/api/status/x',
			'/api/connectors/not-an-id',
			'/api/connectors/',
		]) {
			const reply = await call('GET', path);
			assert.equal(reply.status, 404, path);
			assert.match((reply.json as { error: string }).error, /GET \/api\/status/);
		}
	});

	it('checks the token before telling what exists', async (t) => {
		const { call } = await startApi(t);
		const reply = await call('GET', '/api/nope', { bearer: null });
		assert.equal(reply.status, 401);
	});
});
