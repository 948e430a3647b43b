import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createNullLogger } from '../../../server/shared/log';
import { connectTarget, type TargetResolver } from '../../../server/shared/connect-target';
import { TargetPolicy } from '../../../server/shared/target-policy';
import { TunnelConnections } from '../../../server/tunnel/tunnel-connections';
import type { ConnectionRequest, HandshakeReply } from '../../../server/handshake/connection-types';
import { ManualTimers } from '../../helpers/manual-timers';
import { createTransportPair } from '../../helpers/memory-transport';

/** A resolver that never answers: a target that never connects, so only a deadline or an abort ends it. */
const silent: TargetResolver = () => undefined;

/**
 * connectTarget's deadline runs on the injected Timers, and an AbortSignal gives the connect up at
 * once. Targets that must not connect are names a silent resolver never answers: without the
 * deadline or the abort those tests would hang, and fail on the runner's timeout.
 */
describe('connectTarget: deadline and cancellation', () => {
	let server: Server;
	let port: number;
	const accepted: Socket[] = [];

	before(async () => {
		server = createServer((socket) => {
			accepted.push(socket);
			socket.on('error', () => undefined);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	after(async () => {
		for (const socket of accepted) {
			socket.destroy();
		}
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});

	it('connects, and leaves no timer behind', async () => {
		const timers = new ManualTimers();
		const socket = await connectTarget('127.0.0.1', port, { timers });
		assert.equal(socket.remotePort, port);
		assert.equal(timers.pending, 0);
		socket.destroy();
	});

	it('gives up when the injected clock passes the deadline', { timeout: 5_000 }, async () => {
		const timers = new ManualTimers();
		const connecting = connectTarget('127.0.0.1', port, { timers, timeoutMs: 50 });
		timers.advance(49);
		timers.advance(1);
		await assert.rejects(connecting, {
			code: 'BERTH_ERR_TIMEOUT',
			message: `connect ETIMEDOUT 127.0.0.1:${port}`,
		});
		assert.equal(timers.pending, 0);
	});

	it(
		'gives up at once when its signal is aborted, and leaves no timer behind',
		{ timeout: 5_000 },
		async () => {
			const timers = new ManualTimers();
			const abort = new AbortController();
			const connecting = connectTarget('stalled.example', port, {
				timers,
				signal: abort.signal,
				resolver: silent,
			});
			assert.equal(timers.pending, 1, 'the deadline is on the injected clock');
			abort.abort();
			await assert.rejects(connecting, {
				code: 'BERTH_ERR_CLOSED',
				message: `the connect to stalled.example:${port} was given up`,
			});
			assert.equal(timers.pending, 0);
		},
	);

	it('does not start when the signal is already aborted', async () => {
		const timers = new ManualTimers();
		await assert.rejects(connectTarget('127.0.0.1', port, { timers, signal: AbortSignal.abort() }), {
			code: 'BERTH_ERR_CLOSED',
		});
		assert.equal(timers.pending, 0);
	});

	/** A Tunnel connection to a target that never answers, and what the agent replied. */
	function stalledTunnel(timers: ManualTimers) {
		const tunnels = new TunnelConnections({
			log: createNullLogger(),
			policy: TargetPolicy.openToAll,
			timers,
			resolver: silent,
		});
		const [transport, peer] = createTransportPair();
		const replies: string[] = [];
		const reply: HandshakeReply = {
			ok: () => replies.push('ok'),
			refuse: (reason) => {
				replies.push(reason);
				return { type: 'refused', reason };
			},
		};
		const request: ConnectionRequest = {
			args: { host: 'stalled.example', port: 9 },
			transport,
			leftover: [],
			reconnectionToken: 'test',
			isReconnection: false,
			remoteAddress: 'test',
			principal: { role: 'owner' },
		};
		return { tunnels, transport, peer, replies, outcome: tunnels.accept(request, reply) };
	}

	it(
		'a Tunnel connection still connecting when the agent stops is refused at once',
		{ timeout: 5_000 },
		async () => {
			const timers = new ManualTimers();
			const { tunnels, peer, replies, outcome } = stalledTunnel(timers);
			tunnels.dispose();
			assert.deepEqual(await outcome, { type: 'refused', reason: 'the agent is stopping' });
			assert.deepEqual(replies, ['the agent is stopping']);
			assert.equal(timers.pending, 0, 'no deadline left running');
			peer.dispose();
		},
	);

	it(
		'a Tunnel connection whose client leaves while it connects gives the connect up',
		{ timeout: 5_000 },
		async () => {
			const timers = new ManualTimers();
			const { tunnels, peer, replies, outcome } = stalledTunnel(timers);
			peer.dispose(); // the client's socket drops: both ends of the pair close
			const result = await outcome;
			assert.deepEqual(result, { type: 'refused', reason: 'the connect to stalled.example:9 was given up' });
			assert.equal(replies.length, 1);
			assert.equal(timers.pending, 0, 'no deadline left running');
			tunnels.dispose();
		},
	);
});
