import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SocksClient } from 'socks';
import { BulkMode, bulkOver, startBulkTarget } from '../helpers/bulk';
import { readAll, serve } from '../helpers/net';
import { curl, startWeb, socksConnect } from '../helpers/proxy-clients';
import {
	PROXY_MODES,
	rawSocksConnect,
	startMode,
	startProvider,
	startUdpEcho,
	udpAssociate,
	type ModeRig,
	type ProxyMode,
} from '../helpers/proxy-modes';
import { waitFor, within } from '../helpers/wait';

/**
 * The scenarios LinkSocks's own suites leave out (peers.md §3, "Gaps in their suite"), and its
 * UDP cases, run through every mode of the proxy: half-close both ways, a slow reader that must
 * neither make any process buffer without bound nor stall other streams, a thousand SOCKS5
 * connections at once, UDP to IPv4, IPv6 and a name, and (autonomy, the mode the other suites do
 * not move bulk through) 1 GiB each way.
 */

/** What a stalled reader may leave in flight through a whole proxy path (see the slow-reader test). */
const STALLED_IN_FLIGHT_BOUND_BYTES = 32 * 1024 * 1024;
/** What the slow reader's source sends: four times the bound, so unbounded buffering shows. */
const SOURCE_BYTES = 4 * STALLED_IN_FLIGHT_BOUND_BYTES;
/** A period that is no power of two, so a lost or doubled chunk changes the hash. */
const PATTERN = randomBytes(1024 * 1024 + 7);

/** The first `bytes` of PATTERN repeated, as SHA-256. */
function patternHash(bytes: number): string {
	const hash = createHash('sha256');
	for (let done = 0; done < bytes; done += PATTERN.length) {
		hash.update(PATTERN.subarray(0, Math.min(PATTERN.length, bytes - done)));
	}
	return hash.digest('hex');
}

/**
 * A server that sends SOURCE_BYTES of PATTERN to each connection, as fast as the connection
 * takes them; `flushed()` is what the latest connection has handed to the kernel so far.
 */
async function startSource(): Promise<{ port: number; flushed(): number; close(): Promise<void> }> {
	let latest: Socket | undefined;
	const server = await serve((socket) => {
		latest = socket;
		let sent = 0;
		const pump = (): void => {
			while (sent < SOURCE_BYTES) {
				const chunk = PATTERN.subarray(0, Math.min(PATTERN.length, SOURCE_BYTES - sent));
				sent += chunk.length;
				if (!socket.write(chunk)) {
					return;
				}
			}
			socket.end();
		};
		socket.on('drain', pump);
		pump();
	});
	return {
		port: server.port,
		flushed: () => (latest ? latest.bytesWritten - latest.writableLength : 0),
		close: () => server.close(),
	};
}

/** Resolves with `sample()` once it stayed the same for `stableMs` (sampled every 100 ms). */
async function settled(sample: () => number, what: string, stableMs = 1_000): Promise<number> {
	let last = -1;
	let since = Date.now();
	return waitFor(
		() => {
			const now = sample();
			if (now !== last) {
				last = now;
				since = Date.now();
				return undefined;
			}
			return Date.now() - since >= stableMs ? now + 1 : undefined; // +1: 0 is a value, not "not yet"
		},
		what,
		30_000,
		100,
	).then((v) => v - 1);
}

/** Reads a paused socket slowly (1 MiB, then a pause) for `slowBytes`, then at full speed; hashes it all. */
function drainSlowly(socket: Socket, slowBytes: number): Promise<{ bytes: number; hash: string }> {
	return new Promise((resolve, reject) => {
		const hash = createHash('sha256');
		let bytes = 0;
		let burst = 0;
		socket.on('data', (chunk: Buffer) => {
			hash.update(chunk);
			bytes += chunk.length;
			burst += chunk.length;
			if (bytes < slowBytes && burst >= 1024 * 1024) {
				burst = 0;
				socket.pause();
				setTimeout(() => socket.resume(), 20);
			}
		});
		socket.on('end', () => resolve({ bytes, hash: hash.digest('hex') }));
		socket.on('error', reject);
		socket.resume();
	});
}

/**
 * Sends `count` datagrams to each target through a UDP association and resolves with the echoes
 * (each `echo:<target>#<i>`). A datagram may be lost, as UDP's may: one not answered within a
 * second is sent again, up to three times.
 */
async function udpEchoes(
	proxyPort: number,
	targets: readonly { host: string; port: number }[],
	count: number,
): Promise<Set<string>> {
	const { control, relay } = await udpAssociate(proxyPort);
	const client = createSocket('udp4');
	await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
	const echoes = new Set<string>();
	client.on('message', (message) => echoes.add(String(SocksClient.parseUDPFrame(message).data)));
	const expected = targets.flatMap((t) =>
		Array.from({ length: count }, (_, i) => ({ ...t, text: `${t.host}#${i}` })),
	);
	try {
		for (let round = 0; round < 4; round++) {
			for (const d of expected.filter((e) => !echoes.has(`echo:${e.text}`))) {
				const frame = SocksClient.createUDPFrame({
					remoteHost: { host: d.host, port: d.port },
					data: Buffer.from(d.text),
				});
				client.send(frame, relay.port, relay.host);
			}
			const all = (): true | undefined => (echoes.size === expected.length ? true : undefined);
			if (await waitFor(all, 'the echoes', 1_000).catch(() => false)) {
				break;
			}
		}
		return echoes;
	} finally {
		client.close();
		control.destroy();
	}
}

function forEachMode(body: (mode: ProxyMode, rig: () => ModeRig) => void): void {
	for (const mode of PROXY_MODES) {
		describe(`${mode} mode`, () => {
			let rig: ModeRig;
			before(async () => {
				rig = await startMode(mode);
			});
			after(() => rig?.stop());
			body(mode, () => rig);
		});
	}
}

describe('proxy scenarios in every mode', () => {
	forEachMode((mode, rig) => {
		it('half-close: the client shuts its write side and still reads the answer the target gives after it', async () => {
			const target = await serve((socket) => {
				const chunks: Buffer[] = [];
				socket.on('data', (c: Buffer) => chunks.push(c));
				socket.on('end', () => socket.end(`got ${Buffer.concat(chunks).toString()} after your FIN`));
			});
			after(() => target.close());
			const socket = await rawSocksConnect(rig().port, '127.0.0.1', target.port);
			const reply = readAll(socket);
			socket.resume();
			socket.end('question');
			assert.equal(String(await within(reply, 10_000, 'the late reply')), 'got question after your FIN');
		});

		it('half-close: the target shuts its side first and still reads what the client sends after it', async () => {
			let heard!: (text: string) => void;
			const targetHeard = new Promise<string>((resolve) => (heard = resolve));
			const target = await serve((socket) => {
				void readAll(socket).then((b) => heard(String(b)));
				socket.end('bye from the target');
			});
			after(() => target.close());
			const socket = await rawSocksConnect(rig().port, '127.0.0.1', target.port);
			const closed = new Promise<boolean>((resolve) => socket.once('close', resolve));
			const got = readAll(socket);
			socket.resume();
			assert.equal(String(await within(got, 10_000, "the target's FIN")), 'bye from the target');
			socket.end('still talking after your FIN');
			assert.equal(
				await within(targetHeard, 10_000, 'the client bytes after the FIN'),
				'still talking after your FIN',
			);
			assert.equal(await within(closed, 10_000, 'the close'), false, 'closed without an error');
		});

		it('a stalled, then slow reader holds a bounded amount in flight and does not stall another stream', async () => {
			const source = await startSource();
			after(() => source.close());
			const slow = await rawSocksConnect(rig().port, '127.0.0.1', source.port);
			after(() => slow.destroy());
			// Nothing is read: the source must stop once the path's windows and socket buffers are full.
			const stalled = await settled(source.flushed, 'the source to stop sending');
			assert.ok(
				stalled <= STALLED_IN_FLIGHT_BOUND_BYTES,
				`${(stalled / 2 ** 20).toFixed(1)} MiB in flight towards a reader that reads nothing`,
			);
			// Another stream through the same processes moves meanwhile, byte-exact.
			const bulkBytes = 64 * 1024 * 1024;
			const bulk = await startBulkTarget(bulkBytes);
			after(() => bulk.close());
			const other = await socksConnect(rig().port, '127.0.0.1', bulk.port);
			assert.equal(
				await within(bulkOver(other, BulkMode.Download, 7, bulkBytes), 60_000, 'the other stream'),
				'exact',
			);
			assert.ok(source.flushed() <= STALLED_IN_FLIGHT_BOUND_BYTES, 'still bounded');
			// Read slowly, then at full speed: every byte arrives, in order.
			const drained = await within(drainSlowly(slow, 16 * 1024 * 1024), 120_000, 'the drain');
			assert.equal(drained.bytes, SOURCE_BYTES);
			assert.equal(drained.hash, patternHash(SOURCE_BYTES));
		});

		it('carries curl to an IPv6 target (§3: 1, 10)', async () => {
			const v6 = createHttpServer((req, res) => res.end(`v6 ${req.url}`));
			await new Promise<void>((resolve) => v6.listen(0, '::1', resolve));
			after(() => new Promise<void>((resolve) => v6.close(() => resolve())));
			const port = (v6.address() as AddressInfo).port;
			const r = await curl(['--socks5-hostname', `127.0.0.1:${rig().port}`, `http://[::1]:${port}/six`]);
			assert.deepEqual([r.code, r.stdout], [0, 'v6 /six']);
		});

		it('carries UDP datagrams to an IPv4, an IPv6 and a named target (names resolved where they leave)', async () => {
			const v4 = await startUdpEcho('127.0.0.1');
			const v6 = await startUdpEcho('::1');
			after(() => (v4.close(), v6.close()));
			const targets = [
				{ host: '127.0.0.1', port: v4.port },
				{ host: '::1', port: v6.port },
				{ host: 'localhost', port: v4.port },
			];
			const echoes = await udpEchoes(rig().port, targets, 10);
			assert.equal(echoes.size, 30, `echoes: ${[...echoes].sort().join(', ')}`);
		});

		if (mode !== 'forward') {
			// Forward mode's own suite does this (proxy-forward.integration.test.ts).
			it('carries 1,000 SOCKS5 connections opened at once, each byte-exact both ways', async () => {
				const bulk = await startBulkTarget(64 * 1024);
				after(() => bulk.close());
				const outcomes = await Promise.all(
					Array.from({ length: 1000 }, async (_, id) =>
						bulkOver(await socksConnect(rig().port, '127.0.0.1', bulk.port), BulkMode.Both, id, 64 * 1024),
					),
				);
				assert.equal(outcomes.filter((o) => o === 'exact').length, 1000);
				assert.equal(bulk.uploadsBad, 0);
			});
		}

		if (mode === 'autonomy') {
			// The other modes' suites move 1 GiB each way (proxy-forward, -reverse, -relay).
			it('moves 1 GiB each way byte-exact through connector, agent and the provider that declared the token', async () => {
				const bytes = 1024 * 1024 * 1024;
				const bulk = await startBulkTarget(bytes);
				after(() => bulk.close());
				const down = await bulkOver(
					await socksConnect(rig().port, '127.0.0.1', bulk.port),
					BulkMode.Download,
					1,
					bytes,
				);
				const up = await bulkOver(
					await socksConnect(rig().port, '127.0.0.1', bulk.port),
					BulkMode.Upload,
					2,
					bytes,
				);
				assert.deepEqual([down, up], ['exact', 'exact']);
			});
		}
	});
});

describe("LinkSocks's other cases (peers.md §3)", () => {
	let web: { port: number; close(): Promise<void> };
	before(async () => {
		web = await startWeb();
	});
	after(() => web?.close());

	it('reverse mode with SOCKS5 credentials on the agent: none or wrong ones are refused, test_user/test_pass passes (§3: 9)', async () => {
		const rig = await startMode('reverse', {
			agent: { args: ['-n', 'test_user'], env: { BERTH_SOCKS_PASSWORD: 'test_pass' } },
		});
		after(() => rig.stop());
		const target = `http://127.0.0.1:${web.port}/creds`;
		const none = await curl(['--socks5-hostname', `127.0.0.1:${rig.port}`, target]);
		assert.equal(none.code, 97);
		const wrong = await curl(['--socks5-hostname', `127.0.0.1:${rig.port}`, '-U', 'test_user:nope', target]);
		assert.equal(wrong.code, 97);
		const good = await curl([
			'--socks5-hostname',
			`127.0.0.1:${rig.port}`,
			'-U',
			'test_user:test_pass',
			target,
		]);
		assert.deepEqual([good.code, good.stdout], [0, 'hello /creds']);
	});

	for (const scheme of ['socks5', 'http'] as const) {
		it(`a provider's egress through a ${scheme} upstream (§3: 26)`, async () => {
			// The upstream is Berth's own forward -D through an agent that denies one port: that refusal
			// can only come from the upstream.
			const denied = await startWeb();
			after(() => denied.close());
			const upstream = await startMode('forward', {
				agent: { args: ['--deny', `127.0.0.1:${denied.port}`] },
			});
			after(() => upstream.stop());
			const rig = await startMode('reverse', {
				providerArgs: ['--upstream', `${scheme}://127.0.0.1:${upstream.port}`],
			});
			after(() => rig.stop());
			const ok = await curl([
				'--socks5-hostname',
				`127.0.0.1:${rig.port}`,
				`http://127.0.0.1:${web.port}/up`,
			]);
			assert.deepEqual([ok.code, ok.stdout], [0, 'hello /up']);
			const refused = await curl([
				'--socks5-hostname',
				`127.0.0.1:${rig.port}`,
				`http://127.0.0.1:${denied.port}/`,
			]);
			assert.equal(refused.code, 97);
			assert.match(refused.stderr, /\(2\)/, "the upstream's policy refusal, as SOCKS reply 0x02");
		});
	}

	it('answers SOCKS5 BIND with 0x07, command not supported (a gap §3 names)', async () => {
		const rig = await startMode('forward');
		after(() => rig.stop());
		const socket = connect({ port: rig.port, host: '127.0.0.1' });
		socket.on('error', () => undefined);
		const answer = readAll(socket).catch(() => Buffer.alloc(0));
		socket.write(Uint8Array.of(5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80));
		const bytes = await within(answer, 10_000, 'the answer to BIND');
		assert.deepEqual([...bytes.subarray(0, 4)], [5, 0, 5, 7]);
	});

	it('25 UDP associations of 10 datagrams each over 5 providers, every one echoed (§3: 32, 33)', async () => {
		const rig = await startMode('reverse');
		after(() => rig.stop());
		const more = await Promise.all([1, 2, 3, 4].map(() => startProvider(rig.agent.url, rig.agent.token!)));
		after(() => Promise.all(more.map((p) => p.stop())));
		const echo = await startUdpEcho('127.0.0.1');
		after(() => echo.close());
		const started = Date.now();
		const all = await Promise.all(
			Array.from({ length: 25 }, () => udpEchoes(rig.port, [{ host: '127.0.0.1', port: echo.port }], 10)),
		);
		assert.deepEqual(
			all.map((echoes) => echoes.size),
			Array.from({ length: 25 }, () => 10),
		);
		// LinkSocks's budget for this is 90 s.
		assert.ok(Date.now() - started < 90_000);
	});
});
