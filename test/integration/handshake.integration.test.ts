import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TOKEN_PROOF_AUTH } from '../../protocol/constants';
import { encodeMessage, MessageType } from '../../protocol/wire';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { hmac, WireClient } from '../helpers/wire-client';

/** Each handshake rule, spoken byte by byte to the real dist/server.js, over raw TCP and WebSocket frames. */
for (const framing of ['raw TCP', 'WebSocket frames'] as const) {
	describe(`handshake over ${framing}`, () => {
		let agent: AgentProcess;
		let commit: string;
		const open = (query: Record<string, string> = {}) =>
			framing === 'raw TCP' ? WireClient.raw(agent.port, { query }) : WireClient.ws(agent.port, { query });

		before(async () => {
			agent = await startAgent();
			commit = await (await fetch(`http://127.0.0.1:${agent.port}/version`)).text();
		});
		after(async () => {
			assert.equal(await agent.stop(), 0);
		});

		/** Sends raw first-message bytes and expects `{type:"error", reason}` and a close. */
		async function expectRefusal(client: WireClient, reason: string): Promise<void> {
			const reply = await client.nextControl();
			assert.deepEqual(reply, { type: 'error', reason });
			await client.waitClosed();
		}

		it('signs the client challenge with HMAC-SHA256(token) and answers ok to Management', async () => {
			const client = await open();
			const { sign, reply, challenge } = await client.handshake({
				token: agent.token,
				connectionType: 1,
				commit,
			});
			assert.equal(sign['type'], 'sign');
			assert.equal(sign['signedData'], hmac(agent.token!, challenge), 'the agent proves it knows the token');
			assert.equal(typeof sign['data'], 'string');
			assert.deepEqual(reply, { type: 'ok' });
			client.destroy();
		});

		it('lets a Berth client prove its token without sending it; the agent proves its own last, in ok', async () => {
			const client = await open();
			const { sign, reply, challenge } = await client.handshake({
				token: agent.token,
				auth: TOKEN_PROOF_AUTH,
				connectionType: 1,
				commit,
			});
			assert.equal(sign['signedData'], '', 'no signature for a client that has proved nothing yet');
			assert.deepEqual(reply, { type: 'ok', signedData: hmac(agent.token!, challenge) });
			const sent = Buffer.concat(client.sent).toString('latin1');
			assert.ok(!sent.includes(agent.token!), 'the token never crossed the wire');
			client.destroy();
		});

		it('refuses a Berth client whose proof is wrong (auth mismatch), having signed nothing for it', async () => {
			const client = await open();
			const { sign, reply } = await client.handshake({
				token: 'not-the-token-but-long-enough',
				auth: TOKEN_PROOF_AUTH,
				connectionType: 1,
				commit,
			});
			assert.equal(sign['signedData'], '');
			assert.deepEqual(reply, { type: 'error', reason: 'Unauthorized client refused: auth mismatch' });
			await client.waitClosed();
		});

		it('refuses a first message that is not JSON: Malformed first message', async () => {
			const client = await open();
			client.write(encodeMessage(MessageType.Control, 0, 0, Buffer.from('{not json')));
			await expectRefusal(client, 'Malformed first message');
		});

		it('refuses a first message of another type: Invalid first message', async () => {
			const client = await open();
			client.sendControl({ type: 'connectionType', desiredConnectionType: 1 });
			await expectRefusal(client, 'Invalid first message');
		});

		it('refuses a wrong token: Unauthorized client refused: auth mismatch', async () => {
			const client = await open();
			client.sendControl({ type: 'auth', auth: 'not-the-token', data: randomUUID() });
			await expectRefusal(client, 'Unauthorized client refused: auth mismatch');
		});

		it('refuses a second message that is not JSON: Malformed second message', async () => {
			const client = await open();
			client.sendControl({ type: 'auth', auth: agent.token, data: randomUUID() });
			await client.nextControl();
			client.write(encodeMessage(MessageType.Control, 0, 0, Buffer.from('][')));
			await expectRefusal(client, 'Malformed second message');
		});

		it('refuses a second message of another type: Invalid second message', async () => {
			const client = await open();
			client.sendControl({ type: 'auth', auth: agent.token, data: randomUUID() });
			await client.nextControl();
			client.sendControl({ type: 'auth', auth: agent.token, data: 'x' });
			await expectRefusal(client, 'Invalid second message');
		});

		it('refuses a different commit: Client refused: version mismatch', async () => {
			const client = await open();
			const { reply } = await client.handshake({
				token: agent.token,
				connectionType: 1,
				commit: 'f'.repeat(40),
			});
			assert.deepEqual(reply, { type: 'error', reason: 'Client refused: version mismatch' });
			await client.waitClosed();
		});

		it('checks no version when the client sends no commit', async () => {
			const client = await open();
			const { reply } = await client.handshake({ token: agent.token, connectionType: 1 });
			assert.deepEqual(reply, { type: 'ok' });
			client.destroy();
		});

		it('refuses a bad signature: Unauthorized client refused', async () => {
			const client = await open();
			const { reply } = await client.handshake({ token: agent.token, connectionType: 1, signature: 'bad' });
			assert.deepEqual(reply, { type: 'error', reason: 'Unauthorized client refused' });
			await client.waitClosed();
		});

		it('refuses an echoed challenge (a client that cannot sign): Unauthorized client refused', async () => {
			const client = await open();
			const { reply } = await client.handshake({ token: agent.token, connectionType: 1, signature: 'echo' });
			assert.deepEqual(reply, { type: 'error', reason: 'Unauthorized client refused' });
		});

		it('refuses an unknown connection type: Unknown initial data received', async () => {
			const client = await open();
			const { reply } = await client.handshake({ token: agent.token, connectionType: 7 });
			assert.deepEqual(reply, { type: 'error', reason: 'Unknown initial data received' });
			await client.waitClosed();
		});

		it('refuses ExtensionHost (2) with a reason that says why', async () => {
			const client = await open();
			const { reply } = await client.handshake({
				token: agent.token,
				connectionType: 2,
				args: { language: 'en' },
			});
			assert.equal(reply['type'], 'error');
			assert.match(String(reply['reason']), /ExtensionHost.*not supported/);
		});

		it('refuses a live reconnection token on a fresh connection: Duplicate reconnection token', async () => {
			const token = randomUUID();
			const first = await open({ reconnectionToken: token });
			assert.deepEqual((await first.handshake({ token: agent.token, connectionType: 1 })).reply, {
				type: 'ok',
			});
			const second = await open({ reconnectionToken: token });
			const { reply } = await second.handshake({ token: agent.token, connectionType: 1 });
			assert.deepEqual(reply, { type: 'error', reason: 'Duplicate reconnection token' });
			assert.equal(first.isClosed, false, 'the first connection stays up');
			first.destroy();
		});

		it('refuses to resume a token it never saw: Unknown reconnection token (never seen)', async () => {
			const client = await open({ reconnectionToken: randomUUID(), reconnection: 'true' });
			const { reply } = await client.handshake({ token: agent.token, connectionType: 1 });
			assert.deepEqual(reply, { type: 'error', reason: 'Unknown reconnection token (never seen)' });
		});

		it('refuses to resume a session that ended: Unknown reconnection token (seen before)', async () => {
			const token = randomUUID();
			const first = await open({ reconnectionToken: token });
			await first.handshake({ token: agent.token, connectionType: 1 });
			first.sendMessage(MessageType.Disconnect, 0, 0);
			const goodbye = await first.next((m) => m.type === MessageType.Disconnect);
			assert.equal(goodbye.type, MessageType.Disconnect, 'the agent answers Disconnect');
			await first.waitClosed();
			const again = await open({ reconnectionToken: token, reconnection: 'true' });
			const { reply } = await again.handshake({ token: agent.token, connectionType: 1 });
			assert.deepEqual(reply, { type: 'error', reason: 'Unknown reconnection token (seen before)' });
		});
	});
}

describe('handshake without a connection token', () => {
	it('accepts any auth and any signature, as VS Code does with --without-connection-token', async () => {
		const agent = await startAgent({ token: null });
		try {
			const client = await WireClient.raw(agent.port);
			const { reply } = await client.handshake({ token: 'anything', connectionType: 1, signature: 'echo' });
			assert.deepEqual(reply, { type: 'ok' });
			client.destroy();
		} finally {
			await agent.stop();
		}
	});
});
