import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { errnoOf } from '../../../extension/error-text';
import {
	TUNNEL_PORT_TRIES,
	chooseTunnelPort,
	parseRememberedTunnelPort,
	probePort,
	tunnelPortCandidates,
} from '../../../extension/agent/tunnel-port';

describe('tunnelPortCandidates', () => {
	it('tries the setting, then the ports after it', () => {
		const ports = tunnelPortCandidates(8765, undefined);
		assert.equal(ports.length, TUNNEL_PORT_TRIES);
		assert.deepEqual(ports.slice(0, 3), [8765, 8766, 8767]);
	});

	it('tries last time’s port first while the setting is unchanged', () => {
		assert.deepEqual(
			tunnelPortCandidates(8765, { preferred: 8765, port: 8767 }).slice(0, 3),
			[8767, 8765, 8766],
		);
		assert.deepEqual(tunnelPortCandidates(9000, { preferred: 8765, port: 8767 }).slice(0, 2), [9000, 9001]);
	});

	it('lets the system pick for 0, and keeps what it picked', () => {
		assert.deepEqual(tunnelPortCandidates(0, undefined), [0]);
		assert.deepEqual(tunnelPortCandidates(0, { preferred: 0, port: 40123 }), [40123, 0]);
	});

	it('never goes past 65535', () => {
		assert.deepEqual(tunnelPortCandidates(65534, undefined), [65534, 65535]);
	});
});

describe('parseRememberedTunnelPort', () => {
	it('reads what was stored, and nothing else', () => {
		assert.deepEqual(parseRememberedTunnelPort({ preferred: 8765, port: 8766 }), {
			preferred: 8765,
			port: 8766,
		});
		assert.deepEqual(parseRememberedTunnelPort({ preferred: 0, port: 40123 }), { preferred: 0, port: 40123 });
		assert.equal(parseRememberedTunnelPort({ preferred: 8765, port: 0 }), undefined);
		assert.equal(parseRememberedTunnelPort('8765'), undefined);
	});
});

describe('chooseTunnelPort', () => {
	it('takes the first free candidate', async () => {
		const busy = new Set([8765, 8766]);
		const port = await chooseTunnelPort('127.0.0.1', 8765, undefined, async (_h, p) => !busy.has(p));
		assert.equal(port, 8767);
	});

	it('says every port was taken, as EADDRINUSE', async () => {
		await assert.rejects(
			chooseTunnelPort('127.0.0.1', 8765, undefined, async () => false),
			(error: unknown) =>
				error instanceof BerthError && error.code === 'BERTH_ERR_LISTEN' && errnoOf(error) === 'EADDRINUSE',
		);
	});
});

describe('probePort', () => {
	let server: Server;
	let port: number;
	before(async () => {
		server = createServer();
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as { port: number }).port;
	});
	after(() => server.close());

	it('sees a port in use, and a free one', async () => {
		assert.equal(await probePort('127.0.0.1', port), false);
		const free = createServer();
		await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
		const freePort = (free.address() as { port: number }).port;
		await new Promise<void>((resolve) => free.close(() => resolve()));
		assert.equal(await probePort('127.0.0.1', freePort), true);
	});

	it('throws for an address this machine does not have', async () => {
		await assert.rejects(probePort('192.0.2.1', 0), (error: unknown) => errnoOf(error) === 'EADDRNOTAVAIL');
	});
});
