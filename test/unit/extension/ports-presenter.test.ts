import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
	ConnectionRegistry,
	ConnectionRegistryChange,
} from '../../../extension/agent/connection-registry';
import type { Forwarding } from '../../../extension/ports/forwarding';
import type { AgentConnectionState } from '../../../extension/ports/ports-model';
import { PortsPresenter, type FirstConnectionFailure } from '../../../extension/ports/ports-presenter';
import { Emitter } from '../../../protocol/lifecycle';
import type { ForwardInfo } from '../../../protocol/rpc';
import type { ProxyInfo } from '../../../server/client/index';
import type { LocalForwardRow, PortsViewState } from '../../../protocol/webview';
import { ManualTimers } from '../../helpers/manual-timers';

/** One remote agent whose forwards the test changes, behind the registry's and forwarding's surfaces. */
function setup() {
	const timers = new ManualTimers();
	const registry = new Emitter<ConnectionRegistryChange>();
	const changed = new Emitter<void>();
	let forwards: ForwardInfo[] = [];
	let proxies: ProxyInfo[] = [];
	/** A function: the status as a Connection computes it when asked (an outage's length counts up). */
	let status: () => AgentConnectionState = () => ({ type: 'connected', host: 'vm' });
	const connection = {
		target: { id: 'ws://vm:8765', url: 'ws://vm:8765', isLocal: false, peer: 'berth' },
		get status() {
			return status();
		},
		get forwards() {
			return forwards;
		},
		get proxies() {
			return proxies;
		},
		listeningPorts: [{ host: '127.0.0.1', port: 8080 }],
	};
	const connections = {
		onDidChange: registry.event,
		connecting: () => [],
		all: () => [connection],
		get: () => connection,
	} as unknown as ConnectionRegistry;
	const forwarding = {
		onDidChange: changed.event,
		originMap: new Map(),
		labelFor: () => undefined,
		localUrl: (_agentId: string, info: ForwardInfo) => `http://127.0.0.1:${info.bindPort}/`,
	} as unknown as Forwarding;
	const resolved: string[] = [];
	const presenter = new PortsPresenter(connections, forwarding, {
		timers,
		notice: () => undefined,
		externalUrl: async (_agentId, info) => {
			resolved.push(info.id);
			return `https://proxy.example/${info.bindPort}/`;
		},
	});
	const states: PortsViewState[] = [];
	const failures: FirstConnectionFailure[] = [];
	presenter.onDidChange((s) => states.push(s));
	presenter.onDidFailFirstConnection((f) => failures.push(f));
	const set = (next: ForwardInfo[]): void => {
		forwards = next;
		registry.fire({ agentId: 'ws://vm:8765', kind: 'forwards' });
	};
	const setProxies = (next: ProxyInfo[]): void => {
		proxies = next;
		registry.fire({ agentId: 'ws://vm:8765', kind: 'forwards' });
	};
	const setStatus = (next: () => AgentConnectionState): void => {
		status = next;
		registry.fire({ agentId: 'ws://vm:8765', kind: 'status' });
	};
	return { timers, presenter, states, failures, resolved, set, setProxies, setStatus };
}

function forward(counters: Partial<ForwardInfo['counters']> = {}): ForwardInfo {
	return {
		id: 'f1',
		direction: 'local',
		bindHost: '127.0.0.1',
		bindPort: 40000,
		targetHost: '127.0.0.1',
		targetPort: 42481,
		state: 'active',
		counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0, ...counters },
	};
}

const lastRow = (states: PortsViewState[]) =>
	states[states.length - 1]?.rows[0] as LocalForwardRow | undefined;

describe('PortsPresenter', () => {
	it('announces at most every 250 ms, with the usable address once resolved', async () => {
		const { timers, states, resolved, set, presenter } = setup();
		set([forward()]);
		set([forward({ total: 0 })]);
		assert.equal(states.length, 0);
		timers.advance(250);
		assert.equal(states.length, 1);
		assert.equal(lastRow(states)?.url, undefined);
		await Promise.resolve();
		timers.advance(250);
		assert.equal(lastRow(states)?.url, 'https://proxy.example/40000/');
		assert.deepEqual(resolved, ['f1'], 'resolved once');
		presenter.dispose();
		assert.equal(timers.pending, 0);
	});

	it('counts an outage up once a second while the agent reconnects, and stops once it is back', () => {
		const { timers, states, setStatus, presenter } = setup();
		const since = timers.now();
		setStatus(() => ({
			type: 'reconnecting',
			attempt: 2,
			delayMs: 5_000,
			resuming: true,
			outageMs: timers.now() - since,
		}));
		timers.advance(250);
		const details = () => states.map((s) => s.agents[0]!.detail);
		assert.deepEqual(details(), ['Reconnecting; connections are held (attempt 2 in 5 s)']);
		timers.advance(1_000);
		timers.advance(1_000);
		assert.deepEqual(details().slice(1), [
			'Reconnecting for 1 s; connections are held (attempt 2 in 5 s)',
			'Reconnecting for 2 s; connections are held (attempt 2 in 5 s)',
		]);
		setStatus(() => ({
			type: 'connected',
			host: 'vm',
			drops: { drops: 1, last: { end: 'resumed', durationMs: 2_500 } },
		}));
		timers.advance(1_000);
		assert.equal(details().at(-1), 'Connected to vm; resumed after 3 s, no connection lost');
		assert.equal(timers.pending, 0, 'no more ticks once it is back');
		presenter.dispose();
	});

	it("tells once when a forward's first connection failed, in the row's words", () => {
		const { timers, failures, set, presenter } = setup();
		set([forward()]);
		timers.advance(250);
		assert.equal(failures.length, 0);
		set([forward({ total: 1, lastError: 'connect ECONNREFUSED 127.0.0.1:42481' })]);
		timers.advance(250);
		set([forward({ total: 2, lastError: 'connect ECONNREFUSED 127.0.0.1:42481' })]);
		timers.advance(250);
		assert.deepEqual(failures, [
			{
				rowKey: 'ws://vm:8765|f|f1',
				agentId: 'ws://vm:8765',
				forwardId: 'f1',
				portName: '42481',
				message: 'Nothing is listening on 42481 on vm (connect ECONNREFUSED 127.0.0.1:42481)',
			},
		]);
		presenter.dispose();
	});

	it('shows a rate while data moves, and 0 once it stops', () => {
		const { timers, states, set, presenter } = setup();
		set([forward()]);
		for (let s = 1; s <= 3; s++) {
			timers.advance(1000);
			set([forward({ bytesIn: s * 10_000 })]);
		}
		timers.advance(250);
		assert.equal(Math.round(lastRow(states)!.rateIn), 10_000);
		timers.advance(5000);
		assert.equal(lastRow(states)!.rateIn, 0, 'the presenter looked again after the traffic stopped');
		presenter.dispose();
	});

	it("shows a proxy's rate from its announced counters, as a forward's", () => {
		const { timers, states, setProxies, presenter } = setup();
		const proxy = (bytesOut: number): ProxyInfo => ({
			id: 'p1',
			mode: 'forward',
			bindHost: '127.0.0.1',
			bindPort: 1080,
			state: 'active',
			counters: { open: 1, total: 1, bytesIn: 0, bytesOut },
		});
		setProxies([proxy(0)]);
		for (let s = 1; s <= 3; s++) {
			timers.advance(1000);
			setProxies([proxy(s * 4_000)]);
		}
		timers.advance(250);
		const row = states[states.length - 1]!.rows.find((r) => r.kind === 'proxy');
		assert.equal(row?.kind === 'proxy' && Math.round(row.rateOut), 4_000);
		presenter.dispose();
	});
});
