import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STREAM_WINDOW_BYTES } from '../../protocol/constants';
import { encodeFrame, encodeOpen, FrameKind, MUX_VERSION, ResetCode } from '../../protocol/mux-frames';
import { MessageType, type WireMessage } from '../../protocol/wire';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { startEchoServer } from '../helpers/net';
import { WireClient } from '../helpers/wire-client';

/** A stream session opened by hand, so tests can send frames no real client would. */
async function openMuxSession(
	agent: AgentProcess,
): Promise<{ client: WireClient; send(frame: Uint8Array): void }> {
	const client = await WireClient.raw(agent.port);
	const { reply } = await client.handshake({
		token: agent.token,
		connectionType: 32,
		args: { version: MUX_VERSION, features: [] },
	});
	assert.deepEqual(reply, { type: 'ok' });
	let id = 0;
	return { client, send: (frame) => client.sendMessage(MessageType.Regular, ++id, 0, frame) };
}

/** Whether a message is an RPC frame whose JSON matches (sessions also get events, e.g. clientsChanged). */
function isRpc(m: WireMessage, pattern: RegExp): boolean {
	return m.type === MessageType.Regular && m.payload[0] === FrameKind.Rpc && pattern.test(rpcText(m));
}

function rpcText(m: WireMessage): string {
	return Buffer.from(m.payload.subarray(5)).toString();
}

/** A good client: a full stream session that pings over RPC, in under 2 s. */
async function goodClientWorks(agent: AgentProcess): Promise<void> {
	const started = Date.now();
	const { client, send } = await openMuxSession(agent);
	send(
		encodeFrame(
			FrameKind.Rpc,
			0,
			Buffer.from(JSON.stringify({ type: 'request', id: 1, method: 'ping', params: {} })),
		),
	);
	const answer = await client.next((m) => isRpc(m, /"type":"response","id":1/));
	assert.match(rpcText(answer), /"result":\{"receivedAt":\d+\}/);
	assert.ok(Date.now() - started < 2_000);
	client.destroy();
}

describe('stream sessions under hostile input', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		assert.equal(await agent.stop(), 0, 'the agent survived everything and stopped cleanly');
	});

	it('refuses a stream protocol version it does not speak, in words', async () => {
		const client = await WireClient.raw(agent.port);
		const { reply } = await client.handshake({
			token: agent.token,
			connectionType: 32,
			args: { version: 99 },
		});
		assert.equal(reply['type'], 'error');
		assert.match(String(reply['reason']), /Unsupported stream protocol: this agent speaks version 2/);
		await goodClientWorks(agent);
	});

	it('closes a session whose frame is shorter than its header', async () => {
		const { client, send } = await openMuxSession(agent);
		send(Buffer.from([3, 0]));
		await client.waitClosed();
		await agent.waitForLog(/broke the stream protocol .*shorter than its header/);
		await goodClientWorks(agent);
	});

	it('closes a session that opens a stream id of the agent’s side', async () => {
		const { client, send } = await openMuxSession(agent);
		send(encodeOpen(2, { kind: 'tcp', host: '127.0.0.1', port: 9 }));
		await client.waitClosed();
		await goodClientWorks(agent);
	});

	it('resets (and keeps the session for) a malformed open request and an unknown frame kind', async () => {
		const { client, send } = await openMuxSession(agent);
		send(encodeFrame(FrameKind.Open, 1, Buffer.from('{not json')));
		const reset = await client.next(
			(m) => m.type === MessageType.Regular && m.payload[0] === FrameKind.Reset,
		);
		assert.equal(reset.payload[5], ResetCode.ProtocolError);
		assert.equal(Buffer.from(reset.payload.subarray(6)).toString(), 'malformed open request');
		send(encodeFrame(77 as FrameKind, 1));
		send(encodeFrame(FrameKind.Rpc, 0, Buffer.from('{"type":"request","id":1,"method":"ping","params":{}}')));
		await client.next((m) => isRpc(m, /"type":"response","id":1/));
		assert.equal(client.isClosed, false);
		client.destroy();
	});

	it('resets a stream whose client sends past its window, and nothing else', async () => {
		const echo = await startEchoServer();
		try {
			const { client, send } = await openMuxSession(agent);
			send(encodeOpen(1, { kind: 'tcp', host: '127.0.0.1', port: echo.port }));
			const tooMuch = Buffer.alloc(STREAM_WINDOW_BYTES + 1);
			send(encodeFrame(FrameKind.Data, 1, tooMuch));
			const reset = await client.next(
				(m) => m.type === MessageType.Regular && m.payload[0] === FrameKind.Reset,
				10_000,
			);
			assert.equal(reset.payload[5], ResetCode.ProtocolError);
			assert.match(Buffer.from(reset.payload.subarray(6)).toString(), /flow control violated/);
			assert.equal(client.isClosed, false, 'the session goes on');
			client.destroy();
		} finally {
			await echo.close();
		}
		await goodClientWorks(agent);
	});

	it('answers bad RPC without harm: not JSON, unknown methods, bad params', async () => {
		const { client, send } = await openMuxSession(agent);
		send(encodeFrame(FrameKind.Rpc, 0, Buffer.from('{{{')));
		send(encodeFrame(FrameKind.Rpc, 0, Buffer.from('{"type":"request","id":1,"method":"nope","params":{}}')));
		send(
			encodeFrame(
				FrameKind.Rpc,
				0,
				Buffer.from('{"type":"request","id":2,"method":"addForward","params":{"bindPort":-1}}'),
			),
		);
		const answers: string[] = [];
		for (let i = 0; i < 2; i++) {
			answers.push(rpcText(await client.next((x) => isRpc(x, /"type":"error"/))));
		}
		assert.ok(answers.some((a) => /"id":1.*unknown method: nope/.test(a)));
		assert.ok(answers.some((a) => /"id":2.*bindPort must be 0-65535/.test(a)));
		await agent.waitForLog(/dropped an RPC message/);
		client.destroy();
		await goodClientWorks(agent);
	});
});
