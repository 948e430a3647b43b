import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '../helpers/net';
import { listenerSockets } from '../helpers/proc';
import { curl, startWeb, type CurlResult } from '../helpers/proxy-clients';
import {
	rawSocksConnect,
	startCutRelay,
	startMode,
	startProvider,
	type ModeRig,
} from '../helpers/proxy-modes';
import { waitFor, within } from '../helpers/wait';

/**
 * LinkSocks's reconnect and failover cases (peers.md §3: 4, 8, 11, 16, 18, 20, 23) and one of the
 * gaps it names (a network drop mid-transfer), through Berth's modes: agents that restart on the
 * same port, providers that die or lose their connection, connections made while a side is away.
 */

/** A GET through the rig's proxy (SOCKS5, the name resolved where the traffic leaves). */
function get(port: number, web: number, path: string): Promise<CurlResult> {
	return curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://127.0.0.1:${web}${path}`]);
}

/** Resolves once a GET through the proxy answers (the rig reconnected), within `timeoutMs`. */
function worksAgain(rig: ModeRig, web: number, timeoutMs = 30_000): Promise<true> {
	return waitFor(
		async () => (await get(rig.port, web, '/again')).stdout === 'hello /again' || undefined,
		`the ${rig.mode} proxy to work again`,
		timeoutMs,
		500,
	);
}

async function status(rig: ModeRig): Promise<{ providers: { name: string }[]; connectors: unknown[] }> {
	const response = await fetch(rig.agent.url.replace(/^ws:/, 'http:') + '/api/status', {
		headers: { authorization: `Bearer ${rig.agent.token}` },
	});
	assert.equal(response.status, 200);
	return (await response.json()) as { providers: { name: string }[]; connectors: unknown[] };
}

describe('proxy modes across reconnection', () => {
	let web: { port: number; close(): Promise<void> };
	before(async () => {
		web = await startWeb();
	});
	after(() => web?.close());

	it('forward: a request made while the agent restarts waits and completes, at each restart (the backoff starts over)', async () => {
		const rig = await startMode('forward');
		after(() => rig.stop());
		for (const round of [1, 2]) {
			let pending: Promise<CurlResult> | undefined;
			await rig.restartAgent({ whileDown: () => (pending = get(rig.port, web.port, `/r${round}`)) });
			// The proxy holds the request up to 10 s; the client's next try comes 5 s after the loss.
			assert.equal((await pending!).stdout, `hello /r${round}`, `round ${round}`);
		}
	});

	it('forward: a network drop mid-transfer is resumed: the connection goes on, and new ones work', async () => {
		let relay: Awaited<ReturnType<typeof startCutRelay>> | undefined;
		const rig = await startMode('forward', {
			proxyUrl: async (agent) => {
				relay = await startCutRelay(agent.port);
				return relay.url(agent);
			},
		});
		after(() => rig.stop());
		after(() => relay?.close());
		const endless = await serve((socket) => {
			const block = Buffer.alloc(64 * 1024, 1);
			const pump = (): void => {
				while (socket.writable && socket.write(block)) {
					// as fast as the connection takes it
				}
			};
			socket.on('drain', pump);
			pump();
		});
		after(() => endless.close());
		const socket: Socket = await rawSocksConnect(rig.port, '127.0.0.1', endless.port);
		let received = 0;
		let failure: string | undefined;
		socket.on('error', (e: NodeJS.ErrnoException) => (failure = e.code ?? 'error'));
		socket.on('end', () => (failure = 'end'));
		socket.on('data', (c: Buffer) => (received += c.length));
		socket.resume();
		await waitFor(() => received >= 8 * 1024 * 1024 || undefined, '8 MiB through the proxy');
		relay!.cut();
		const atCut = received;
		// The session is resumed: the same connection goes on moving bytes.
		await waitFor(() => received >= atCut + 8 * 1024 * 1024 || failure, '8 MiB more after the cut', 30_000);
		assert.equal(failure, undefined, 'the proxied connection was not ended by the drop');
		socket.destroy();
		await worksAgain(rig, web.port);
	});

	it('reverse: a provider that dies leaves the status within 5 s; a request made meanwhile completes through the next provider', async () => {
		const rig = await startMode('reverse');
		after(() => rig.stop());
		assert.equal((await get(rig.port, web.port, '/first')).stdout, 'hello /first');
		rig.provider!.child.kill('SIGKILL');
		await within(
			waitFor(async () => (await status(rig)).providers.length === 0 || undefined, 'no provider'),
			5_000,
			'the provider to leave the status',
		);
		const pending = get(rig.port, web.port, '/waiting');
		// The request is in and waiting (its connection open on the proxy port) before a provider comes.
		await waitFor(() => listenerSockets(rig.port).count >= 1 || undefined, 'the waiting connection');
		const next = await startProvider(rig.agent.url, rig.agent.token!, [], ['--name', 'next']);
		after(() => next.stop());
		assert.equal((await pending).stdout, 'hello /waiting');
		assert.deepEqual(
			(await status(rig)).providers.map((p) => p.name),
			['next'],
		);
	});

	it("relay: the agent's own proxy port and the connector's both work; a connector's request waits for a provider that comes back", async () => {
		const rig = await startMode('relay');
		after(() => rig.stop());
		const agentPort = Number(
			/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/.exec(
				rig.agent.stdout.find((l) => l.startsWith('Proxy'))!,
			)![1],
		);
		assert.equal((await get(agentPort, web.port, '/agent')).stdout, 'hello /agent');
		assert.equal((await get(rig.port, web.port, '/connector')).stdout, 'hello /connector');
		rig.provider!.child.kill('SIGKILL');
		await waitFor(async () => (await status(rig)).providers.length === 0 || undefined, 'no provider');
		const pending = get(rig.port, web.port, '/waiting');
		const next = await startProvider(rig.agent.url, rig.agent.token!);
		after(() => next.stop());
		assert.equal((await pending).stdout, 'hello /waiting');
	});

	it('autonomy: a provider whose connection drops declares its token again; its connector comes back, and a request made meanwhile completes', async () => {
		let relay: Awaited<ReturnType<typeof startCutRelay>> | undefined;
		const rig = await startMode('autonomy', {
			providerUrl: async (agent) => {
				relay = await startCutRelay(agent.port);
				return relay.url(agent);
			},
		});
		after(() => rig.stop());
		after(() => relay?.close());
		assert.equal((await get(rig.port, web.port, '/before')).stdout, 'hello /before');
		relay!.cut();
		// The agent cuts the connector with its provider's session; the connector's first try may
		// come before the provider declared the token again: it must try again, not give up.
		assert.equal((await get(rig.port, web.port, '/during')).stdout, 'hello /during');
		assert.equal(rig.proxy!.child.exitCode, null, 'the connector still runs');
		await rig.provider!.waitForStderr(/connected to the agent again/);
		assert.ok(
			!rig.provider!.stderr.some((l) => /refused this provider/.test(l)),
			'the token was declared again',
		);
	});

	it('autonomy: after an agent restart on the same port the provider declares its token again and the connector works again', async () => {
		const rig = await startMode('autonomy');
		after(() => rig.stop());
		assert.equal((await get(rig.port, web.port, '/before')).stdout, 'hello /before');
		await rig.restartAgent();
		await worksAgain(rig, web.port);
		assert.equal(rig.proxy!.child.exitCode, null, 'the connector still runs');
		assert.equal((await status(rig)).providers.length, 1);
	});
});
