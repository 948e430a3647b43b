import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardInfo } from '../../../protocol/rpc';
import type { PortsViewState } from '../../../protocol/webview';
import {
	buildPortsViewState,
	describeAgentState,
	diffPortsState,
	forwardKey,
	panelNotice,
	type AgentInput,
	type ModelInput,
} from '../../../extension/ports/ports-model';

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

function agent(extra: Partial<AgentInput> = {}): AgentInput {
	return {
		id: 'ws://remote:8765',
		url: 'ws://remote:8765',
		isLocal: false,
		peer: 'berth',
		state: { type: 'connected', host: 'remote', version: '0.1.0' },
		forwards: [],
		listeningPorts: undefined,
		...extra,
	};
}

function input(agents: AgentInput[], extra: Partial<ModelInput> = {}): ModelInput {
	return { agents, origins: new Map(), labelFor: () => undefined, ...extra };
}

describe('buildPortsViewState', () => {
	it('lists forwards with their counters, origin and label', () => {
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
				},
			),
		);
		assert.deepEqual(
			state.rows.map((r) => [r.key, r.port, r.label, r.origin, r.localAddress, r.totalConnections]),
			[
				['ws://remote:8765|f|a', 3000, 'Web', 'user', '127.0.0.1:43000', 0],
				['ws://remote:8765|f|b', 5432, undefined, 'auto', '127.0.0.1:45432', 3],
			],
		);
		assert.equal(state.agents[0]!.label, 'remote:8765');
		assert.equal(state.agents[0]!.detectsPorts, false);
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
			state.rows.map((r) => [r.key, r.state, r.process]),
			[
				['ws://remote:8765|f|a', 'active', 'node server.js (42)'],
				['ws://remote:8765|d|127.0.0.1:8080', 'detected', undefined],
			],
		);
		assert.equal(state.agents[0]!.detectsPorts, true);
	});

	it('leaves out closed forwards and shows failed ones with their error', () => {
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
			state.rows.map((r) => [r.forwardId, r.state, r.error]),
			[['b', 'failed', 'EADDRINUSE']],
		);
	});

	it("does not offer this machine's own forward listeners as detected ports", () => {
		const state = buildPortsViewState(
			input([
				agent({
					id: 'local',
					isLocal: true,
					forwards: [forward('a', 3000)],
					listeningPorts: [
						{ host: '127.0.0.1', port: 3000 },
						{ host: '127.0.0.1', port: 43000 },
						{ host: '127.0.0.1', port: 5000 },
					],
				}),
			]),
		);
		assert.deepEqual(
			state.rows.map((r) => r.key),
			['local|f|a', 'local|d|127.0.0.1:5000'],
		);
	});

	it('names the local agent "This machine" and passes the notice on', () => {
		const state = buildPortsViewState(
			input([agent({ id: 'local', url: 'ws://127.0.0.1:1234', isLocal: true })], { notice: 'hello' }),
		);
		assert.equal(state.agents[0]!.label, 'This machine');
		assert.equal(state.notice, 'hello');
	});
});

describe('describeAgentState', () => {
	it('says how the connection stands', () => {
		assert.equal(describeAgentState({ type: 'connecting' }, 'berth'), 'Connecting…');
		assert.equal(
			describeAgentState({ type: 'connected', host: 'vm', version: '1.2.3' }, 'berth'),
			'Connected to vm (Berth 1.2.3)',
		);
		assert.match(describeAgentState({ type: 'connected' }, 'vscode'), /cannot be verified/);
		assert.equal(
			describeAgentState(
				{ type: 'reconnecting', attempt: 2, delayMs: 5000, lastError: 'ECONNREFUSED' },
				'berth',
			),
			'Connection lost; reconnecting in 5 s (attempt 2): ECONNREFUSED',
		);
		assert.equal(
			describeAgentState({ type: 'failed', message: 'auth mismatch' }, 'berth'),
			'Disconnected: auth mismatch',
		);
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
	it('explains an empty panel, and Restricted Mode', () => {
		assert.match(panelNotice({ trusted: true, agents: 0 }) ?? '', /No agent connected/);
		assert.match(panelNotice({ trusted: false, agents: 0 }) ?? '', /Restricted Mode/);
		assert.equal(panelNotice({ trusted: false, agents: 1 }), undefined);
	});
});
