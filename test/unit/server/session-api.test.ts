import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentEvents, AgentMethods, ClientListener, ListeningPort } from '../../../protocol/rpc';
import { RpcEndpoint } from '../../../protocol/rpc-endpoint';
import type { ForwardPlaces } from '../../../server/client/forward-loop';
import { OwnForwards } from '../../../server/client/own-forwards';
import { SessionApi, type PortsChange } from '../../../server/client/session-api';
import { ensureNoLeaks, type LeakCheck } from '../../helpers/leaks';

const HERE = 'net-here';

/** A client endpoint wired to an agent endpoint that records what it is told. */
function setup(leaks: LeakCheck, agentNetwork: string) {
	const timers = leaks.timers();
	let toClient: (b: Uint8Array) => void = () => undefined;
	const agent = new RpcEndpoint<AgentMethods, Record<string, never>, AgentEvents, Record<string, never>>({
		send: (b) => toClient(b),
		timers,
	});
	const rpc = new RpcEndpoint<Record<string, never>, AgentMethods, Record<string, never>, AgentEvents>({
		send: (b) => agent.receive(b),
		timers,
	});
	toClient = (b) => rpc.receive(b);
	const declared: ClientListener[][] = [];
	agent.handle('declareListeners', (params) => {
		declared.push((params as { listeners: ClientListener[] }).listeners);
		return {};
	});
	const own = new OwnForwards(HERE);
	const api = new SessionApi(rpc, own, agentNetwork);
	const dispose = () => {
		api.dispose();
		own.dispose();
		rpc.dispose();
		agent.dispose();
	};
	return { agent, own, api, declared, dispose };
}

function forwardOn(port: number): ForwardPlaces {
	return {
		label: `127.0.0.1:${port} -> 127.0.0.1:5432`,
		listen: { network: HERE, hosts: ['127.0.0.1'], port },
		target: { network: HERE, host: '127.0.0.1', port: 5432, isLocal: true },
	};
}

describe('SessionApi', () => {
	const leaks = ensureNoLeaks();

	it('declares this client’s listeners to an agent on its loopback, again when they change', async () => {
		const { own, api, declared, dispose } = setup(leaks, HERE);
		assert.equal(api.sameNetwork, true);
		const forward = own.reserve(forwardOn(40677));
		await api.declared();
		assert.deepEqual(declared, [[{ host: '127.0.0.1', port: 40677 }]]);
		forward.listening(['127.0.0.1'], 40677);
		forward.dispose();
		await api.declared();
		assert.deepEqual(declared.at(-1), [], 'the forward ended');
		assert.equal(declared.length, 2, 'an unchanged set is not sent again');
		dispose();
	});

	it('declares nothing to an agent elsewhere', async () => {
		const { own, api, declared, dispose } = setup(leaks, 'net-agent');
		own.reserve(forwardOn(40677));
		await api.declared();
		assert.deepEqual(declared, []);
		dispose();
	});

	it('leaves this client’s listeners out of the ports the agent reports', async () => {
		const { agent, own, api, dispose } = setup(leaks, HERE);
		own.reserve(forwardOn(40677));
		const ports: ListeningPort[] = [
			{ host: '127.0.0.1', port: 3000, pid: 7 },
			{ host: '127.0.0.1', port: 40677, pid: 8 },
		];
		agent.handle('listeningPorts', () => ({ ports }));
		assert.deepEqual(await api.listeningPorts(), [ports[0]]);
		const changes: PortsChange[] = [];
		api.onDidChangePorts((change) => changes.push(change));
		agent.emit('portsChanged', { added: ports, removed: [] });
		agent.emit('portsChanged', { added: 'nonsense', removed: [] } as never);
		assert.deepEqual(changes, [{ added: [ports[0]], removed: [] }]);
		dispose();
	});

	it('checks a client list before handing it out', async () => {
		const { agent, api, dispose } = setup(leaks, HERE);
		agent.handle('listClients', () => ({ clients: [{ id: 'streams#1' }] }) as never);
		await assert.rejects(api.listClients(), { code: 'BERTH_ERR_PROTOCOL' });
		dispose();
	});
});
