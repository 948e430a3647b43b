import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseAgentUrl, StreamForwarder, type ProxyInfo } from '../../server/client';
import type { AgentEndpoint } from '../../server/client/dial';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { curl, startWeb } from '../helpers/proxy-clients';
import { waitFor } from '../helpers/wait';

function endpointOf(agent: AgentProcess): AgentEndpoint {
	return {
		address: parseAgentUrl(agent.url),
		token: agent.token,
		mode: 'tcp',
		peer: 'berth',
		timers: createNodeTimers(),
	};
}

function isListening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		socket.once('connect', () => (socket.destroy(), resolve(true)));
		socket.once('error', () => resolve(false));
	});
}

/** The latest info the forwarder announced for each proxy, as the extension's rows see it. */
function follow(forwarder: StreamForwarder): Map<string, ProxyInfo> {
	const latest = new Map<string, ProxyInfo>();
	forwarder.onDidChangeProxy((info) => latest.set(info.id, info));
	return latest;
}

describe("the client library's proxy ports: counters and stop (what the extension's rows show)", () => {
	let agent: AgentProcess;
	let web: { port: number; close(): Promise<void> };
	before(async () => {
		agent = await startAgent();
		web = await startWeb();
	});
	after(async () => {
		await web?.close();
		await agent?.stop();
	});

	it('counts a -D proxy’s connections and bytes, and removeProxy closes its port', async () => {
		const forwarder = await StreamForwarder.start(endpointOf(agent));
		after(() => forwarder.dispose());
		const latest = follow(forwarder);
		const info = await forwarder.addProxy({ bind: '127.0.0.1', port: 0 });
		assert.equal(info.mode, 'forward');
		assert.ok(info.bindPort > 0);
		assert.deepEqual(
			forwarder.listProxies().map((p) => p.id),
			[info.id],
		);

		const result = await curl([
			'--socks5-hostname',
			`127.0.0.1:${info.bindPort}`,
			`http://127.0.0.1:${web.port}/d`,
		]);
		assert.deepEqual([result.code, result.stdout], [0, 'hello /d']);
		const counted = await waitFor(() => {
			const c = latest.get(info.id)?.counters;
			return c && c.total === 1 && c.open === 0 && c.bytesIn > 0 && c.bytesOut > 0 ? c : undefined;
		}, 'the counters to show one finished connection');
		assert.ok(counted.bytesIn >= 'hello /d'.length);

		assert.equal(forwarder.removeProxy(info.id), true);
		assert.equal(latest.get(info.id)?.state, 'closed');
		assert.deepEqual(forwarder.listProxies(), []);
		await waitFor(async () => !(await isListening(info.bindPort)), 'the proxy port to close');
		assert.equal(forwarder.removeProxy(info.id), false);
	});

	it('counts what a -R PORT proxy carried out of this client, and its port closes with the forwarder', async () => {
		const forwarder = await StreamForwarder.start(endpointOf(agent));
		const latest = follow(forwarder);
		const info = await forwarder.addReverseProxy({ bind: '127.0.0.1', port: 0 });
		assert.equal(info.mode, 'reverse');
		assert.deepEqual(
			forwarder.listProxies().map((p) => p.id),
			[info.id],
		);

		const result = await curl([
			'-x',
			`socks5h://127.0.0.1:${info.bindPort}`,
			`http://127.0.0.1:${web.port}/r`,
		]);
		assert.deepEqual([result.code, result.stdout], [0, 'hello /r']);
		await waitFor(() => {
			const c = latest.get(info.id)?.counters;
			return c && c.total === 1 && c.open === 0 && c.bytesIn > 0 && c.bytesOut > 0;
		}, 'the egress counters to show one finished connection');

		forwarder.dispose();
		await waitFor(async () => !(await isListening(info.bindPort)), "the agent's proxy port to close");
	});
});
