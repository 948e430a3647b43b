import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	AgentReports,
	type ReportingSession,
	type ReportSource,
} from '../../../extension/agent/agent-reports';
import { createSinkLogger, type LogLevel } from '../../../extension/logger';
import { BerthError } from '../../../protocol/errors';
import { Emitter } from '../../../protocol/lifecycle';
import type { ListeningPort, ServerInfo } from '../../../protocol/rpc';
import type { LinkState, PortsChange } from '../../../server/client/index';

const INFO: ServerInfo = {
	version: '1.0.0',
	commit: 'c0ffee',
	host: 'agent-host',
	platform: 'linux',
	uptime: 1,
	reconnectionGraceMs: 10_800_000,
	clients: 1,
};

/** A session whose events the test fires, and whose `listeningPorts` answers when the test says. */
class FakeSession implements ReportingSession {
	readonly events = new Emitter<{ event: string; data?: unknown }>();
	readonly portsChanged = new Emitter<PortsChange>();
	/** How many times the ports were asked for. */
	asked = 0;
	private answer: { resolve: (p: ListeningPort[]) => void; reject: (e: unknown) => void } | undefined;
	readonly rpc = { onDidReceiveEvent: this.events.event } as unknown as ReportingSession['rpc'];
	readonly api: ReportingSession['api'] = {
		onDidChangePorts: this.portsChanged.event,
		listeningPorts: () => {
			this.asked++;
			return new Promise((resolve, reject) => (this.answer = { resolve, reject }));
		},
	};

	answerPorts(ports: ListeningPort[]): Promise<void> {
		this.answer?.resolve(ports);
		return settle();
	}

	failPorts(error: unknown): Promise<void> {
		this.answer?.reject(error);
		return settle();
	}

	clientsChanged(clients: unknown): void {
		this.events.fire({ event: 'clientsChanged', data: { clients } });
	}
}

/** A forwarder in miniature: a state, and a session that a renewal replaces. */
class FakeSource implements ReportSource {
	private readonly states = new Emitter<LinkState>();
	readonly onDidChangeState = this.states.event;
	state: LinkState = { type: 'connected', info: INFO, renewed: false, sameNetwork: false };

	constructor(public session: FakeSession | undefined) {}

	lose(): void {
		this.session = undefined;
		this.set({ type: 'reconnecting', attempt: 1, delayMs: 0, lastError: 'the connection dropped' });
	}

	renew(session: FakeSession, clients: number): void {
		this.session = session;
		this.set({ type: 'connected', info: { ...INFO, clients }, renewed: true, sameNetwork: false });
	}

	private set(state: LinkState): void {
		this.state = state;
		this.states.fire(state);
	}
}

function settle(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}

function setup(): {
	source: FakeSource;
	first: FakeSession;
	reports: AgentReports;
	lines: [LogLevel, string][];
} {
	const first = new FakeSession();
	const source = new FakeSource(first);
	const lines: [LogLevel, string][] = [];
	const reports = new AgentReports(
		source,
		createSinkLogger(
			(level, text) => lines.push([level, text]),
			() => [],
		),
	);
	return { source, first, reports, lines };
}

describe('what the agent reports over the window’s session', () => {
	it('lists the ports of the session, then follows its portsChanged', async () => {
		const { first, reports } = setup();
		const seen: (readonly ListeningPort[] | undefined)[] = [];
		reports.onDidChangePorts((ports) => seen.push(ports));
		assert.equal(reports.ports, undefined, 'unknown until the agent answers');
		await first.answerPorts([{ host: '127.0.0.1', port: 5000 }]);
		first.portsChanged.fire({
			added: [{ host: '0.0.0.0', port: 3000 }],
			removed: [{ host: '127.0.0.1', port: 5000 }],
		});
		assert.deepEqual(reports.ports, [{ host: '0.0.0.0', port: 3000 }]);
		assert.equal(seen.length, 2);
		reports.dispose();
	});

	it('asks a renewed session for the ports again, and no longer listens to the old one', async () => {
		const { source, first, reports } = setup();
		await first.answerPorts([{ host: '127.0.0.1', port: 5000 }]);
		source.lose();
		const second = new FakeSession();
		source.renew(second, 1);
		assert.equal(second.asked, 1, 'the new session is asked');
		await second.answerPorts([{ host: '127.0.0.1', port: 6000 }]);
		first.portsChanged.fire({ added: [{ host: '127.0.0.1', port: 7000 }], removed: [] });
		first.clientsChanged(9);
		assert.deepEqual(
			reports.ports,
			[{ host: '127.0.0.1', port: 6000 }],
			'the old session’s events are dropped',
		);
		assert.equal(reports.clients, 1);
		second.portsChanged.fire({ added: [{ host: '127.0.0.1', port: 7000 }], removed: [] });
		assert.deepEqual(
			reports.ports?.map((p) => p.port),
			[6000, 7000],
		);
		reports.dispose();
	});

	it('ignores an old session’s late answer', async () => {
		const { source, first, reports } = setup();
		const second = new FakeSession();
		source.renew(second, 1);
		await second.answerPorts([{ host: '127.0.0.1', port: 6000 }]);
		await first.answerPorts([{ host: '127.0.0.1', port: 5000 }]);
		assert.deepEqual(reports.ports, [{ host: '127.0.0.1', port: 6000 }]);
		reports.dispose();
	});

	it('does not ask again when the same session is connected again', async () => {
		const { source, first, reports } = setup();
		await first.answerPorts([]);
		source.renew(first, 1);
		assert.equal(first.asked, 1);
		reports.dispose();
	});

	it('counts clients from serverInfo, then clientsChanged, then the renewed session’s serverInfo', () => {
		const { source, first, reports } = setup();
		const counts: number[] = [];
		reports.onDidChangeClients((clients) => counts.push(clients));
		assert.equal(reports.clients, 1);
		first.clientsChanged(3);
		first.clientsChanged(3); // no change, no event
		first.clientsChanged(-1);
		first.clientsChanged('4');
		first.clientsChanged(2.5);
		assert.equal(reports.clients, 3, 'a count that is not a whole number ≥ 0 is ignored');
		source.lose();
		source.renew(new FakeSession(), 2);
		assert.deepEqual(counts, [3, 2]);
		reports.dispose();
	});

	it('has no ports for an agent without listeningPorts, and says why only at debug level', async () => {
		const { first, reports, lines } = setup();
		const seen: (readonly ListeningPort[] | undefined)[] = [];
		reports.onDidChangePorts((ports) => seen.push(ports));
		await first.failPorts(new BerthError('BERTH_ERR_RPC_UNKNOWN_METHOD', 'unknown method listeningPorts'));
		assert.deepEqual(seen, [undefined]);
		assert.deepEqual(
			lines.map(([level]) => level),
			['debug'],
		);
		reports.dispose();
	});

	it('warns when listing the ports failed otherwise', async () => {
		const { first, reports, lines } = setup();
		await first.failPorts(new BerthError('BERTH_ERR_PROTOCOL', 'not a list'));
		assert.equal(reports.ports, undefined);
		assert.deepEqual(lines, [['warn', "listing the agent's ports failed: not a list"]]);
		reports.dispose();
	});
});
