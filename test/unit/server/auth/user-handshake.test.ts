import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../../protocol/errors';
import { Accounts } from '../../../../server/auth/accounts';
import { AgentKey } from '../../../../server/auth/agent-key';
import { MemoryTokenStore } from '../../../../server/auth/memory-token-store';
import type { TokenRole } from '../../../../server/auth/token-store';
import { UserTokens } from '../../../../server/auth/user-tokens';
import { runClientHandshake } from '../../../../server/client/client-handshake';
import { ConnectionTypeRegistry, type Principal } from '../../../../server/handshake/connection-types';
import { runServerHandshake, type HandshakeResult } from '../../../../server/handshake/server-handshake';
import { createNullLogger } from '../../../../server/shared/log';
import { ManualTimers } from '../../../helpers/manual-timers';
import { createTransportPair } from '../../../helpers/memory-transport';

const SECRET = new TextEncoder().encode('s'.repeat(48));
const STREAMS = 32;
const MANAGEMENT = 1;

/** An agent with accounts, in memory: its key, its token issuer, and a handshake runner. */
function agent(secret = SECRET) {
	const timers = new ManualTimers();
	const store = new MemoryTokenStore();
	const tokens = new UserTokens({ store, secret });
	const accounts = new Accounts({ tokens, store, timers, wallClock: Date.now, log: createNullLogger() });
	const key = AgentKey.generate();
	const registry = new ConnectionTypeRegistry();
	const seen: Principal[] = [];
	registry.register({
		id: STREAMS,
		name: 'Mux',
		acceptsUsers: true,
		acceptsConnectors: true,
		accept: (request, reply) => (
			seen.push(request.principal),
			reply.ok(),
			Promise.resolve({ type: 'accepted' })
		),
	});
	registry.register({
		id: MANAGEMENT,
		name: 'Management',
		acceptsUsers: true,
		accept: (request, reply) => (
			seen.push(request.principal),
			reply.ok(),
			Promise.resolve({ type: 'accepted' })
		),
	});
	const refused: string[] = [];
	const connect = async (token: string, connectionType: number, pin?: string) => {
		const [agentSide, clientSide] = createTransportPair();
		const server: Promise<HandshakeResult> = runServerHandshake(
			agentSide,
			[],
			{ reconnectionToken: 'r', reconnection: false, skipWebSocketFrames: true },
			{
				token: { type: 'mandatory', value: 'the-connection-token', source: 'flag' },
				commit: 'c',
				registry,
				timers,
				deadlineMs: 10_000,
				bearer: accounts,
				agentKey: key,
				onTokenRefused: (why) => refused.push(why),
				onAuthenticated: () => undefined,
			},
		);
		const client = runClientHandshake(clientSide, [], {
			token,
			connectionType,
			peer: 'berth',
			timers,
			...(pin !== undefined ? { agentKeyPin: pin } : {}),
		});
		const [clientResult, serverResult] = await Promise.allSettled([client, server]);
		return { client: clientResult, server: serverResult };
	};
	const issue = (email: string, role: TokenRole = 'client') =>
		tokens.issue({ email, role, ttlMs: 3_600_000 });
	return { key, tokens, seen, refused, connect, issue };
}

function rejection(result: PromiseSettledResult<unknown>): BerthError {
	assert.equal(result.status, 'rejected');
	const reason = (result as PromiseRejectedResult).reason as unknown;
	assert.ok(reason instanceof BerthError, String(reason));
	return reason;
}

describe('the handshake with a user token', () => {
	it('accepts a user token, and the client checks the agent key it pinned', async () => {
		const a = agent();
		const { jwt, record } = await a.issue('alice@example.com');
		const { client } = await a.connect(jwt, STREAMS, a.key.fingerprint);
		assert.equal(client.status, 'fulfilled');
		assert.deepEqual(a.seen, [
			{
				role: 'user',
				user: {
					userId: record.userId,
					email: 'alice@example.com',
					tokenId: record.id,
					role: 'client',
					expiresAt: record.expiresAt,
				},
			},
		]);
	});

	it('refuses, on the client, an agent whose key is not the pinned one', async () => {
		const a = agent();
		const { jwt } = await a.issue('alice@example.com');
		const { client } = await a.connect(jwt, STREAMS, AgentKey.generate().fingerprint);
		const error = rejection(client);
		assert.equal(error.code, 'BERTH_ERR_SERVER_UNVERIFIED');
		assert.match(error.message, /not the one your login pinned/);
	});

	it('refuses a revoked token for good, with its code, and says why in the log', async () => {
		const a = agent();
		const { jwt, record } = await a.issue('alice@example.com');
		await a.tokens.revoke(record.id);
		const { client } = await a.connect(jwt, STREAMS);
		const error = rejection(client);
		assert.equal(error.code, 'BERTH_ERR_TOKEN_REVOKED');
		assert.ok(error.isPermanent);
		assert.match(error.message, /the token was revoked/);
		assert.deepEqual(a.refused, ['revoked']);
	});

	it('refuses a token another agent signed as a bad signature, not as a revoked one', async () => {
		const a = agent();
		const b = agent(new TextEncoder().encode('b'.repeat(48)));
		const { jwt } = await b.issue('mallory@example.com');
		const error = rejection((await a.connect(jwt, STREAMS)).client);
		assert.equal(error.code, 'BERTH_ERR_HANDSHAKE_REFUSED', 'a new token could work: not final');
		assert.deepEqual(a.refused, ['bad-signature']);
		const c = agent(); // the same secret, another database: signed right, but not one of ours
		const fromC = (await c.issue('nobody@example.com')).jwt;
		assert.equal(rejection((await a.connect(fromC, STREAMS)).client).code, 'BERTH_ERR_HANDSHAKE_REFUSED');
		assert.deepEqual(a.refused, ['bad-signature', 'unknown']);
	});

	it('keeps a connector-role user to proxy streams', async () => {
		const a = agent();
		const { jwt } = await a.issue('conn@example.com', 'connector');
		const management = rejection((await a.connect(jwt, MANAGEMENT)).client);
		assert.match(management.message, /connector token opens proxy streams only/);
		assert.equal((await a.connect(jwt, STREAMS)).client.status, 'fulfilled');
	});
});
