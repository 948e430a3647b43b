import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardInfo } from '../../../protocol/rpc';
import type { PortRow, PortsViewState, ProxyRow } from '../../../protocol/webview';
import type { ProxyInfo } from '../../../server/client/index';
import {
	buildPortsViewState,
	forwardKey,
	panelNotice,
	rowKeyOf,
	rowPortName,
	type AgentInput,
	type ModelInput,
} from '../../../extension/ports/ports-model';
import { diffPortsState } from '../../../extension/ports/ports-diff';

function forward(id: string, targetPort: number, extra: Partial<ForwardInfo> = {}): ForwardInfo {
	return {
		id,
		direction: 'local',
		bindHost: '127.0.0.1',
		bindPort: 40000 + targetPort,
		targetHost: 'localhost',
		targetPort,
		state: 'active',
		counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
		...extra,
	};
}

function proxy(
	id: string,
	mode: ProxyInfo['mode'],
	bindPort: number,
	extra: Partial<ProxyInfo> = {},
): ProxyInfo {
	return {
		id,
		mode,
		bindHost: '127.0.0.1',
		bindPort,
		state: 'active',
		counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
		...extra,
	};
}

function agent(extra: Partial<AgentInput> = {}): AgentInput {
	return {
		id: 'ws://remote:8765',
		url: 'ws://remote:8765',
		isLocal: false,
		peer: 'berth',
		state: { type: 'connected', host: 'remote', version: '0.1.0' },
		forwards: [],
		proxies: [],
		listeningPorts: undefined,
		...extra,
	};
}

function input(agents: AgentInput[], extra: Partial<ModelInput> = {}): ModelInput {
	return { agents, origins: new Map(), labelFor: () => undefined, ...extra };
}

/** A forward row's field, or undefined for a detected row (tests read rows of every kind). */
function field(row: PortRow, name: string): unknown {
	return (row as unknown as Record<string, unknown>)[name];
}

describe('buildPortsViewState', () => {
	it('lists local forwards with their counters, origin, label and usable address', () => {
		const state = buildPortsViewState(
			input(
				[
					agent({
						forwards: [
							forward('b', 5432, { counters: { open: 1, total: 3, bytesIn: 10, bytesOut: 20 } }),
							forward('a', 3000),
						],
					}),
				],
				{
					origins: new Map([[forwardKey('ws://remote:8765', 'b'), 'auto']]),
					labelFor: (_agent, _host, port) => (port === 3000 ? 'Web' : undefined),
					urls: new Map([[forwardKey('ws://remote:8765', 'a'), 'https://proxy.example/43000/']]),
					rates: new Map([[forwardKey('ws://remote:8765', 'b'), { rateIn: 5, rateOut: 7 }]]),
				},
			),
		);
		assert.deepEqual(
			state.rows.map((r) => [
				r.key,
				r.kind,
				r.port,
				r.label,
				field(r, 'origin'),
				field(r, 'localAddress'),
				field(r, 'url'),
				field(r, 'totalConnections'),
				field(r, 'rateIn'),
			]),
			[
				[
					'ws://remote:8765|f|a',
					'local',
					3000,
					'Web',
					'user',
					'127.0.0.1:43000',
					'https://proxy.example/43000/',
					0,
					0,
				],
				['ws://remote:8765|f|b', 'local', 5432, undefined, 'auto', '127.0.0.1:45432', undefined, 3, 5],
			],
		);
		assert.equal(state.agents[0]!.label, 'ws://remote:8765');
		assert.equal(state.agents[0]!.detectsPorts, false);
	});

	it('lists reverse forwards after local ones, with the agent side as their address', () => {
		const state = buildPortsViewState(
			input([
				agent({
					forwards: [
						forward('r', 3000, {
							direction: 'remote',
							bindHost: '127.0.0.1',
							bindPort: 8080,
							targetHost: 'localhost',
						}),
						forward('l', 9000),
					],
					listeningPorts: [{ host: '127.0.0.1', port: 8080, command: 'berth server' }],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.map((r) => [r.key, r.kind, r.port, field(r, 'agentAddress')]),
			[
				['ws://remote:8765|f|l', 'local', 9000, undefined],
				['ws://remote:8765|r|r', 'remote', 3000, '127.0.0.1:8080'],
			],
			"the reverse forward's own listener on the agent is not a detected port",
		);
	});

	it('lists proxies after forwards, SOCKS first: mode as label, where traffic leaves, counters and rate', () => {
		const key = forwardKey('ws://remote:8765', 's1');
		const state = buildPortsViewState(
			input(
				[
					agent({
						forwards: [forward('l', 9000)],
						proxies: [
							proxy('n1', 'reverse', 9870),
							proxy('s2', 'forward', 40000),
							proxy('s1', 'forward', 1080, { counters: { open: 1, total: 2, bytesIn: 30, bytesOut: 40 } }),
							proxy('gone', 'forward', 1081, { state: 'closed' }),
						],
					}),
				],
				{ rates: new Map([[key, { rateIn: 5, rateOut: 6 }]]) },
			),
		);
		const proxies = state.rows.filter((r): r is ProxyRow => r.kind === 'proxy');
		assert.deepEqual(
			state.rows.map((r) => r.key),
			['ws://remote:8765|f|l', 'ws://remote:8765|p|s1', 'ws://remote:8765|p|s2', 'ws://remote:8765|p|n1'],
		);
		assert.deepEqual(
			proxies.map((r) => [r.mode, r.host, r.port, r.label, r.exit, r.forwardId]),
			[
				['socks', '127.0.0.1', 1080, 'SOCKS proxy', 'remote', 's1'],
				['socks', '127.0.0.1', 40000, 'SOCKS proxy', 'remote', 's2'],
				['share', '127.0.0.1', 9870, 'Shared network', 'this machine', 'n1'],
			],
		);
		const first = proxies[0]!;
		assert.deepEqual(
			[
				first.openConnections,
				first.totalConnections,
				first.bytesIn,
				first.bytesOut,
				first.rateIn,
				first.rateOut,
			],
			[1, 2, 30, 40, 5, 6],
		);
		assert.equal(first.problem, undefined);
		assert.equal(rowPortName(first), 'SOCKS proxy (1080)');
	});

	it("says a proxy's agent is away, and keeps a failed connection out of its state", () => {
		const failed = proxy('s1', 'forward', 1080, {
			counters: { open: 0, total: 1, bytesIn: 0, bytesOut: 0, lastError: 'connect ECONNREFUSED' },
		});
		const connected = buildPortsViewState(input([agent({ proxies: [failed] })])).rows[0] as ProxyRow;
		assert.equal(connected.problem, undefined);
		assert.equal(connected.lastError, 'connect ECONNREFUSED');
		const away = buildPortsViewState(
			input([agent({ state: { type: 'reconnecting', attempt: 2, delayMs: 5000 }, proxies: [failed] })]),
		).rows[0] as ProxyRow;
		assert.deepEqual(away.problem, { kind: 'agentOffline', message: 'Waiting for remote:8765 to reconnect' });
	});

	it('adds detected ports that no forward reaches, and gives forwards their process', () => {
		const state = buildPortsViewState(
			input([
				agent({
					forwards: [forward('a', 3000)],
					listeningPorts: [
						{ host: '0.0.0.0', port: 3000, pid: 42, command: 'node server.js' },
						{ host: '127.0.0.1', port: 8080 },
						{ host: '10.1.2.3', port: 9000 },
					],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.map((r) => [r.key, r.kind, field(r, 'process'), field(r, 'problem')]),
			[
				['ws://remote:8765|f|a', 'local', 'node server.js (42)', undefined],
				['ws://remote:8765|d|127.0.0.1:8080', 'detected', undefined, undefined],
			],
		);
		assert.equal(state.agents[0]!.detectsPorts, true);
	});

	it('leaves out closed forwards and says why a failed one stopped', () => {
		const state = buildPortsViewState(
			input([
				agent({
					forwards: [
						forward('a', 1, { state: 'closed' }),
						forward('b', 2, { state: 'failed', error: 'EADDRINUSE' }),
					],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.map((r) => [field(r, 'forwardId'), field(r, 'state'), field(r, 'problem')]),
			[['b', 'failed', { kind: 'forwardFailed', message: 'The forward stopped: EADDRINUSE' }]],
		);
	});

	it("shows no detected ports for this machine's agent: they are reachable here already", () => {
		const state = buildPortsViewState(
			input([
				agent({
					id: 'local',
					url: 'ws://127.0.0.1:8765',
					isLocal: true,
					forwards: [forward('a', 3000)],
					listeningPorts: [
						{ host: '127.0.0.1', port: 3000 },
						{ host: '127.0.0.1', port: 5000 },
					],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.map((r) => r.key),
			['local|f|a'],
		);
	});

	it('says in the row that nothing listens where a forward leads, with the reason of a failed connection', () => {
		const state = buildPortsViewState(
			input([
				agent({
					state: { type: 'connected', host: 'vm' },
					forwards: [
						forward('a', 42481, {
							counters: {
								open: 0,
								total: 1,
								bytesIn: 0,
								bytesOut: 170,
								lastError: 'connect ECONNREFUSED 127.0.0.1:42481',
							},
						}),
						forward('b', 5432, { targetHost: 'db' }),
					],
					listeningPorts: [{ host: '127.0.0.1', port: 8080 }],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.filter((r) => r.kind === 'local').map((r) => field(r, 'problem')),
			[
				undefined,
				{
					kind: 'noListener',
					message: 'Nothing is listening on 42481 on vm (connect ECONNREFUSED 127.0.0.1:42481)',
				},
			],
			'another host than the agent: the agent cannot tell, so nothing is said',
		);
	});

	it('lists no detected ports of an agent that is away (its list is stale)', () => {
		const state = buildPortsViewState(
			input([
				agent({
					state: { type: 'reconnecting', attempt: 1, delayMs: 1000 },
					listeningPorts: [{ host: '127.0.0.1', port: 8080 }],
				}),
			]),
		);
		assert.deepEqual(state.rows, []);
	});

	it('keeps the rows of an agent that holds the session, marked reconnecting, and counts the outage', () => {
		const forwards = [forward('a', 3000, { counters: { open: 1, total: 1, bytesIn: 5, bytesOut: 6 } })];
		const proxies = [proxy('s1', 'forward', 1080)];
		const before = buildPortsViewState(input([agent({ forwards, proxies })]));
		const away = buildPortsViewState(
			input([
				agent({
					state: { type: 'reconnecting', attempt: 2, delayMs: 5000, resuming: true, outageMs: 12_000 },
					forwards,
					proxies,
				}),
			]),
		);
		assert.deepEqual(
			away.rows.map((r) => r.key),
			before.rows.map((r) => r.key),
			'the same rows',
		);
		const problem = { kind: 'reconnecting', message: 'Reconnecting to remote:8765; connections are held' };
		assert.deepEqual(
			away.rows.map((r) => (r.kind === 'detected' ? undefined : r.problem)),
			[problem, problem],
		);
		assert.equal(away.agents[0]!.status, 'reconnecting');
		assert.equal(away.agents[0]!.detail, 'Reconnecting for 12 s; connections are held (attempt 2 in 5 s)');
		const back = buildPortsViewState(
			input([
				agent({
					state: {
						type: 'connected',
						host: 'remote',
						version: '0.1.0',
						drops: { drops: 1, last: { end: 'resumed', durationMs: 14_000 } },
					},
					forwards,
					proxies,
				}),
			]),
		);
		assert.deepEqual(back.rows, before.rows, 'the same rows again, as they were');
		assert.equal(
			back.agents[0]!.detail,
			'Connected to remote (Berth 0.1.0); resumed after 14 s, no connection lost',
		);
	});

	it('names the signed-in user of an agent, and marks one whose token was refused for good', () => {
		const state = buildPortsViewState(
			input([
				agent({ user: 'alice@example.com' }),
				agent({
					id: 'ws://other:8765',
					url: 'ws://other:8765',
					user: 'bob@example.com',
					state: { type: 'failed', message: 'x', tokenProblem: 'revoked' },
				}),
				agent({ id: 'ws://third:8765', url: 'ws://third:8765', state: { type: 'failed', message: 'x' } }),
			]),
		);
		const [alice, bob, third] = state.agents;
		assert.equal(alice!.user, 'alice@example.com');
		assert.equal(alice!.needsSignIn, undefined);
		assert.equal(bob!.user, 'bob@example.com');
		assert.equal(bob!.needsSignIn, true);
		assert.equal(bob!.detail, 'Token revoked: sign in again');
		assert.equal(third!.user, undefined, 'a connection token names nobody');
		assert.equal(third!.needsSignIn, undefined, 'another failure is not a sign-in');
	});

	it('names the local agent "This machine" and passes the notice on', () => {
		const state = buildPortsViewState(
			input([agent({ id: 'local', url: 'ws://127.0.0.1:1234', isLocal: true })], { notice: 'hello' }),
		);
		assert.equal(state.agents[0]!.label, 'This machine');
		assert.equal(state.notice, 'hello');
	});
});

describe('rowKeyOf and rowPortName', () => {
	it('builds the keys the rows carry', () => {
		assert.equal(rowKeyOf('local', 'local', 'f1'), 'local|f|f1');
		assert.equal(rowKeyOf('ws://a:1', 'remote', 'r1'), 'ws://a:1|r|r1');
		assert.equal(rowKeyOf('ws://a:1', 'proxy', 'p1'), 'ws://a:1|p|p1');
		assert.equal(rowKeyOf('ws://a:1', 'detected', '[::1]:3000'), 'ws://a:1|d|[::1]:3000');
	});

	it('names a port as the panel does', () => {
		assert.equal(rowPortName({ host: 'localhost', port: 3000, label: 'Web' }), 'Web (3000)');
		assert.equal(rowPortName({ host: '0.0.0.0', port: 3000 }), '3000');
		assert.equal(rowPortName({ host: 'db', port: 5432 }), 'db:5432');
	});
});

describe('diffPortsState', () => {
	const base = buildPortsViewState(input([agent({ forwards: [forward('a', 3000), forward('b', 4000)] })]));

	it('sends a snapshot first', () => {
		assert.deepEqual(diffPortsState(undefined, base), { type: 'snapshot', state: base });
	});

	it('sends nothing when nothing changed', () => {
		assert.equal(diffPortsState(base, structuredClone(base) as PortsViewState), undefined);
	});

	it('patches only the rows whose values changed', () => {
		const next = buildPortsViewState(
			input([
				agent({
					forwards: [
						forward('a', 3000, { counters: { open: 1, total: 1, bytesIn: 5, bytesOut: 6 } }),
						forward('b', 4000),
					],
				}),
			]),
		);
		const message = diffPortsState(base, next);
		assert.equal(message?.type, 'patch');
		assert.deepEqual(
			message?.type === 'patch' ? [message.upserted.map((r) => r.key), message.removed] : undefined,
			[['ws://remote:8765|f|a'], []],
		);
	});

	it('patches a removal, but sends a snapshot for a new row or a changed agent', () => {
		const removed = buildPortsViewState(input([agent({ forwards: [forward('b', 4000)] })]));
		assert.deepEqual(diffPortsState(base, removed), {
			type: 'patch',
			upserted: [],
			removed: ['ws://remote:8765|f|a'],
		});
		const added = buildPortsViewState(
			input([agent({ forwards: [forward('a', 3000), forward('c', 3500), forward('b', 4000)] })]),
		);
		assert.equal(diffPortsState(base, added)?.type, 'snapshot');
		const reconnecting = buildPortsViewState(
			input([
				agent({
					state: { type: 'reconnecting', attempt: 1, delayMs: 0 },
					forwards: [forward('a', 3000), forward('b', 4000)],
				}),
			]),
		);
		assert.equal(diffPortsState(base, reconnecting)?.type, 'snapshot');
	});
});

describe('panelNotice', () => {
	it('explains Restricted Mode when no agent is connected (the welcome view says the rest)', () => {
		assert.equal(panelNotice({ trusted: true, agents: 0 }), undefined);
		assert.match(panelNotice({ trusted: false, agents: 0 }) ?? '', /Restricted Mode/);
		assert.equal(panelNotice({ trusted: false, agents: 1 }), undefined);
	});
});
