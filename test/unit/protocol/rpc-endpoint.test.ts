import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RpcEndpoint } from '../../../protocol/rpc-endpoint';
import { ManualTimers } from '../../helpers/manual-timers';

type Methods = {
	add: { params: { a: number; b: number }; result: number };
	fail: { params: Record<string, never>; result: never };
	slow: { params: Record<string, never>; result: string };
};
type Events = { tick: { n: number } };

function pair() {
	const timers = new ManualTimers();
	let toClient: (b: Uint8Array) => void = () => undefined;
	const server = new RpcEndpoint<Methods, Record<string, never>, Events, Record<string, never>>({
		send: (b) => toClient(b),
		timers,
	});
	const client = new RpcEndpoint<Record<string, never>, Methods, Record<string, never>, Events>({
		send: (b) => server.receive(b),
		timers,
		requestTimeoutMs: 1_000,
	});
	toClient = (b) => client.receive(b);
	return { timers, server, client };
}

describe('RpcEndpoint', () => {
	it('answers a request with its handler’s result', async () => {
		const { server, client } = pair();
		server.handle('add', (p) => (p as { a: number }).a + (p as { b: number }).b);
		assert.equal(await client.request('add', { a: 2, b: 3 }), 5);
	});

	it('turns a handler’s error into a rejected request with its code and message', async () => {
		const { server, client } = pair();
		server.handle('fail', () => {
			throw new Error('nope');
		});
		await assert.rejects(client.request('fail', {}), { code: 'BERTH_ERR_RPC', message: 'nope' });
	});

	it('answers an unknown method with an error naming it', async () => {
		const { client } = pair();
		await assert.rejects(client.request('add', { a: 1, b: 1 }), /unknown method: add/);
	});

	it('rejects a request that gets no answer in time', async () => {
		const { server, client, timers } = pair();
		server.handle('slow', () => new Promise<string>(() => undefined));
		const pending = client.request('slow', {});
		timers.advance(1_000);
		await assert.rejects(pending, { code: 'BERTH_ERR_TIMEOUT' });
	});

	it('rejects open requests when disposed', async () => {
		const { server, client } = pair();
		server.handle('slow', () => new Promise<string>(() => undefined));
		const pending = client.request('slow', {});
		client.dispose();
		await assert.rejects(pending, { code: 'BERTH_ERR_CLOSED' });
	});

	it('delivers events', () => {
		const { server, client } = pair();
		const seen: unknown[] = [];
		client.onDidReceiveEvent((e) => seen.push(e));
		server.emit('tick', { n: 1 });
		assert.deepEqual(seen, [{ event: 'tick', data: { n: 1 } }]);
	});

	it('drops what is not an RPC message, and says so', () => {
		const { client } = pair();
		const invalid: string[] = [];
		client.onDidReceiveInvalid((w) => invalid.push(w));
		for (const junk of [
			'nope',
			'{"type":"request"}',
			'{"type":"response","id":-1}',
			'[]',
			'{"type":"event","event":""}',
		]) {
			client.receive(Buffer.from(junk));
		}
		assert.equal(invalid.length, 5);
	});
});
