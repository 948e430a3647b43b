import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_CONTROL_MESSAGE_BYTES, MAX_PREAUTH_CONTROL_MESSAGE_BYTES } from '../../../protocol/constants';
import { MessageReader } from '../../../protocol/message-reader';
import { encodeControl, encodeHeader, MessageType } from '../../../protocol/wire';
import { AUTH_FAILURE_BURST, AuthThrottle } from '../../../server/auth-throttle';
import { ConnectionTypeRegistry } from '../../../server/handshake/connection-types';
import { runServerHandshake, type HandshakeResult } from '../../../server/handshake/server-handshake';
import { ManualTimers } from '../../helpers/manual-timers';
import { createTransportPair } from '../../helpers/memory-transport';

const TOKEN = 'the-token';

/** One handshake in memory: the agent's side runs for real, the test plays the client. */
function start(options: { throttle?: AuthThrottle } = {}) {
	const timers = new ManualTimers();
	const [agentSide, clientSide] = createTransportPair();
	const registry = new ConnectionTypeRegistry();
	registry.register({
		id: 1,
		name: 'Test',
		accept: (_request, reply) => (reply.ok(), Promise.resolve({ type: 'accepted' })),
	});
	const events: string[] = [];
	const result: Promise<HandshakeResult> = runServerHandshake(
		agentSide,
		[],
		{ reconnectionToken: 'r', reconnection: false, skipWebSocketFrames: true },
		{
			token: { type: 'mandatory', value: TOKEN, source: 'flag' },
			commit: 'c',
			registry,
			timers,
			deadlineMs: 10_000,
			...(options.throttle ? { attempts: options.throttle.forSource('192.0.2.1') } : {}),
			onTokenAccepted: () => events.push('token accepted'),
			onAuthenticated: () => events.push('authenticated'),
		},
	);
	const reader = new MessageReader({ maxControlBytes: 1 << 30, maxMessageBytes: 1 << 30 });
	clientSide.onDidReceive((chunk) => reader.feed(chunk));
	const replies = (): Record<string, unknown>[] => {
		const out: Record<string, unknown>[] = [];
		for (let m = reader.read(); m; m = reader.read()) {
			if (m.type === MessageType.Control) {
				out.push(JSON.parse(Buffer.from(m.payload).toString('utf8')) as Record<string, unknown>);
			}
		}
		return out;
	};
	return { timers, clientSide, result, events, replies };
}

/** A JSON `auth` message padded (with an ignored field) to exactly `bytes` of payload. */
function paddedAuth(token: string, bytes: number): Uint8Array {
	const base = { type: 'auth', auth: token, data: 'challenge', pad: '' };
	const pad = bytes - Buffer.byteLength(JSON.stringify(base));
	return encodeControl({ ...base, pad: 'x'.repeat(pad) } as never);
}

describe('runServerHandshake bounds', () => {
	it('refuses a first Control message announcing more than the pre-authentication bound, before its payload', async () => {
		const { clientSide, result, events } = start();
		clientSide.write([encodeHeader(MessageType.Control, 0, 0, MAX_PREAUTH_CONTROL_MESSAGE_BYTES + 1)]);
		const { outcome } = await result;
		assert.equal(outcome.type, 'refused');
		assert.match(outcome.type === 'refused' ? outcome.reason : '', /over the bound of 16384/);
		assert.deepEqual(events, []);
	});

	it('reads an `auth` message of exactly the pre-authentication bound', async () => {
		const { clientSide, events, replies } = start();
		clientSide.write([paddedAuth(TOKEN, MAX_PREAUTH_CONTROL_MESSAGE_BYTES)]);
		await new Promise((resolve) => setImmediate(resolve));
		assert.equal(replies()[0]?.['type'], 'sign');
		assert.deepEqual(events, ['token accepted']);
	});

	it('raises the Control bound once the token is accepted: the second message may be longer', async () => {
		const { clientSide, result, events, replies } = start();
		clientSide.write([encodeControl({ type: 'auth', auth: TOKEN, data: 'challenge' })]);
		await new Promise((resolve) => setImmediate(resolve));
		const sign = replies()[0]!;
		const signedData = createHmac('sha256', TOKEN).update(String(sign['data'])).digest('base64url');
		const second = {
			type: 'connectionType',
			desiredConnectionType: 1,
			signedData,
			args: { pad: 'x'.repeat(MAX_PREAUTH_CONTROL_MESSAGE_BYTES * 4) },
		};
		clientSide.write([encodeControl(second as never)]);
		const { outcome } = await result;
		assert.deepEqual(outcome, { type: 'accepted' });
		assert.deepEqual(events, ['token accepted', 'authenticated']);
		assert.ok(MAX_PREAUTH_CONTROL_MESSAGE_BYTES * 4 < MAX_CONTROL_MESSAGE_BYTES);
	});

	it('does not raise the bound for a wrong token', async () => {
		const { clientSide, result, events } = start();
		clientSide.write([encodeControl({ type: 'auth', auth: 'wrong', data: 'challenge' })]);
		const { outcome } = await result;
		assert.deepEqual(outcome, { type: 'refused', reason: 'Unauthorized client refused: auth mismatch' });
		assert.deepEqual(events, []);
	});
});

describe('runServerHandshake throttle', () => {
	it('counts wrong tokens against the source, then refuses it without checking its token', async () => {
		const throttle = new AuthThrottle({ timers: new ManualTimers() });
		for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
			const { clientSide, result } = start({ throttle });
			clientSide.write([encodeControl({ type: 'auth', auth: `guess${i}`, data: 'challenge' })]);
			assert.equal((await result).outcome.type, 'refused');
		}
		const { clientSide, result, events, replies } = start({ throttle });
		clientSide.write([encodeControl({ type: 'auth', auth: TOKEN, data: 'challenge' })]);
		const { outcome } = await result;
		assert.equal(outcome.type, 'refused');
		assert.match(
			outcome.type === 'refused' ? outcome.reason : '',
			/^Unauthorized client refused: too many wrong tokens from this address; try again in \d+ s$/,
		);
		assert.deepEqual(events, [], 'even the right token is not accepted while the source waits');
		assert.equal(replies()[0]?.['type'], 'error', 'the client is told why, in words');
	});
});
