import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
	ConnectionRegistry,
	ConnectionRegistryChange,
} from '../../../extension/agent/connection-registry';
import { createNullLogger } from '../../../extension/logger';
import { ProxyForwarding } from '../../../extension/ports/proxy-forwarding';
import { EMPTY_SAVED_STATE, type SavedProxy, type SavedState } from '../../../extension/ports/saved-state';
import { resolveSettings } from '../../../extension/settings';
import { BerthError } from '../../../protocol/errors';
import { Emitter } from '../../../protocol/lifecycle';
import type { ProxyInfo } from '../../../server/client/index';
import { waitFor } from '../../helpers/wait';

const AGENT = 'ws://vm:8765';

/** One agent whose proxy ports are plain data: ports in `taken` refuse to listen, 0 picks 41000 on. */
function setup(saved: readonly SavedProxy[], options: { taken?: number[]; restore?: boolean } = {}) {
	const registry = new Emitter<ConnectionRegistryChange>();
	const proxies: ProxyInfo[] = [];
	let next = 41000;
	const open = (mode: ProxyInfo['mode'], port: number): ProxyInfo => {
		if (options.taken?.includes(port)) {
			throw new BerthError('BERTH_ERR_LISTEN', `cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
		}
		const info: ProxyInfo = {
			id: `p${proxies.length + 1}`,
			mode,
			bindHost: '127.0.0.1',
			bindPort: port === 0 ? next++ : port,
			state: 'active',
			counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
		};
		proxies.push(info);
		return info;
	};
	const connection = {
		target: { id: AGENT },
		get proxies() {
			return proxies;
		},
		startSocksProxy: async (port: number) => open('forward', port),
		shareNetwork: async (port: number) => open('reverse', port),
		stopProxy: (id: string) => {
			const i = proxies.findIndex((p) => p.id === id);
			return i >= 0 && proxies.splice(i, 1).length === 1;
		},
	};
	const connections = {
		onDidChange: registry.event,
		all: () => [connection],
		get: (id: string) => (id === AGENT ? connection : undefined),
	} as unknown as ConnectionRegistry;
	let state: SavedState = { ...EMPTY_SAVED_STATE, proxies: saved };
	const settings = resolveSettings({ restoreForwardedPorts: options.restore ?? true });
	const forwarding = new ProxyForwarding(
		connections,
		{ settings: () => settings, loadState: () => state, saveState: (s) => (state = s) },
		createNullLogger(),
	);
	const connected = (): void => registry.fire({ agentId: AGENT, kind: 'added' });
	return { forwarding, proxies, connected, saved: () => state.proxies };
}

describe('ProxyForwarding', () => {
	it('remembers a proxy on the port it got, and forgets it when stopped', async () => {
		const { forwarding, saved, proxies } = setup([]);
		const socks = await forwarding.startSocksProxy(AGENT, 0);
		const share = await forwarding.shareNetwork(AGENT, 9870);
		assert.deepEqual(saved(), [
			{ agentId: AGENT, mode: 'socks', port: 41000 },
			{ agentId: AGENT, mode: 'share', port: 9870 },
		]);
		assert.deepEqual(
			forwarding.all().map((p) => p.info.id),
			[socks.id, share.id],
		);
		forwarding.stop(AGENT, socks.id);
		assert.deepEqual(saved(), [{ agentId: AGENT, mode: 'share', port: 9870 }]);
		assert.deepEqual(
			proxies.map((p) => p.id),
			[share.id],
		);
		forwarding.dispose();
	});

	it('brings back the proxies of an agent once it connects, each on its port', async () => {
		const { connected, proxies, saved, forwarding } = setup([
			{ agentId: AGENT, mode: 'socks', port: 1080 },
			{ agentId: AGENT, mode: 'share', port: 9870 },
			{ agentId: 'ws://other:1', mode: 'socks', port: 1081 },
		]);
		connected();
		await waitFor(() => proxies.length === 2, 'both proxies of that agent to be back');
		assert.deepEqual(
			proxies.map((p) => [p.mode, p.bindPort]),
			[
				['forward', 1080],
				['reverse', 9870],
			],
		);
		await forwarding.restore(AGENT);
		assert.equal(proxies.length, 2, 'one already open is left alone');
		assert.equal(saved().length, 3);
		forwarding.dispose();
	});

	it('moves a SOCKS proxy whose port was taken to a free one, and remembers that; a refused share is skipped', async () => {
		const { proxies, saved, forwarding } = setup(
			[
				{ agentId: AGENT, mode: 'share', port: 9870 },
				{ agentId: AGENT, mode: 'socks', port: 1080 },
			],
			{ taken: [1080, 9870] },
		);
		await forwarding.restore(AGENT);
		assert.deepEqual(
			proxies.map((p) => [p.mode, p.bindPort]),
			[['forward', 41000]],
		);
		assert.deepEqual(saved(), [
			{ agentId: AGENT, mode: 'share', port: 9870 },
			{ agentId: AGENT, mode: 'socks', port: 41000 },
		]);
		forwarding.dispose();
	});

	it('restores nothing when berth.restoreForwardedPorts is off', async () => {
		const { proxies, forwarding } = setup([{ agentId: AGENT, mode: 'socks', port: 1080 }], {
			restore: false,
		});
		await forwarding.restore(AGENT);
		assert.deepEqual(proxies, []);
		forwarding.dispose();
	});
});
