import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { RpcEndpoint } from '../../../protocol/rpc-endpoint';
import { ensureNoLeaks, type LeakCheck } from '../../helpers/leaks';

type Methods = {
	add: { params: { a: number; b: number }; result: number };
	fail: { params: Record<string, never>; result: never };
	slow: { params: Record<string, never>; result: string };
};
type Events = { tick: { n: number } };

/** Two endpoints wired to each other; `dispose` ends both (the leak check holds each test to it). */
function pair(leaks: LeakCheck) {
	const timers = leaks.timers();
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
	leaks.track(server);
	leaks.track(client);
	return { timers, server, client, dispose: () => (server.dispose(), client.dispose()) };
}

describe('RpcEndpoint', () => {
	const leaks = ensureNoLeaks();

	it('answers a request with its handler’s result', async () => {
		const { server, client, dispose } = pair(leaks);
		server.handle('add', (p) => (p as { a: number }).a + (p as { b: number }).b);
		assert.equal(await client.request('add', { a: 2, b: 3 }), 5);
		dispose();
	});

	it('turns a handler’s error into a rejected request: BERTH_ERR_RPC, with the handler’s code as the reason', async () => {
		const { server, client, dispose } = pair(leaks);
		server.handle('fail', () => {
			throw new Error('nope');
		});
		await assert.rejects(client.request('fail', {}), { code: 'BERTH_ERR_RPC', message: 'nope' });
		server.handle('fail', () => {
			throw new BerthError('BERTH_ERR_USAGE', 'bad params');
		});
		await assert.rejects(client.request('fail', {}), {
			code: 'BERTH_ERR_RPC',
			reason: 'BERTH_ERR_USAGE',
			message: 'bad params',
		});
		dispose();
	});

	it('answers an unknown method with its own code, naming the method', async () => {
		const { client, dispose } = pair(leaks);
		await assert.rejects(client.request('add', { a: 1, b: 1 }), {
			code: 'BERTH_ERR_RPC_UNKNOWN_METHOD',
			message: 'unknown method: add',
		});
		dispose();
	});

	it('rejects a request that gets no answer in time', async () => {
		const { server, client, timers, dispose } = pair(leaks);
		server.handle('slow', () => new Promise<string>(() => undefined));
		const pending = client.request('slow', {});
		timers.advance(1_000);
		await assert.rejects(pending, { code: 'BERTH_ERR_TIMEOUT' });
		dispose();
	});

	it('rejects open requests when disposed, and cancels their timeouts', async () => {
		const { server, client, dispose } = pair(leaks);
		server.handle('slow', () => new Promise<string>(() => undefined));
		const pending = client.request('slow', {});
		dispose();
		await assert.rejects(pending, { code: 'BERTH_ERR_CLOSED' });
	});

	it('delivers events', () => {
		const { server, client, dispose } = pair(leaks);
		const seen: unknown[] = [];
		client.onDidReceiveEvent((e) => seen.push(e));
		server.emit('tick', { n: 1 });
		assert.deepEqual(seen, [{ event: 'tick', data: { n: 1 } }]);
		dispose();
	});

	it('drops what is not an RPC message, and says so', () => {
		const { client, dispose } = pair(leaks);
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
		dispose();
	});
});
