import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STREAM_INITIAL_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../../../protocol/constants';
import { Mux } from '../../../protocol/mux';
import { ResetCode, type OpenTarget, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream } from '../../../protocol/mux-stream';
import { StreamPairBridge, type PairEnd } from '../../../server/shared/stream-pair-bridge';
import { channelPair } from '../../helpers/channel-pair';
import { waitFor } from '../../helpers/wait';

/**
 * What the agent may hold of one direction of a joined pair: the window it grants the writer's
 * side. Anything past it must wait at the writer (the connector), not in the agent.
 */
const AGENT_HOLD_BOUND_BYTES = STREAM_WINDOW_BYTES + STREAM_INITIAL_WINDOW_BYTES;
const CHUNK_BYTES = 64 * 1024;

/** An end (connector or provider) that collects what it gets; while `hold` is set it reads nothing. */
function endpoint(stream: MuxStream) {
	const state = {
		got: [] as Buffer[],
		datagrams: [] as string[],
		ended: false,
		reset: undefined as StreamReset | undefined,
		hold: false,
		held: 0,
	};
	stream.attach({
		onData: (chunk) => {
			state.got.push(Buffer.from(chunk));
			if (state.hold) {
				state.held += chunk.byteLength;
			}
			stream.setBuffered(state.held);
		},
		onEnd: () => (state.ended = true),
		onReset: (reset) => (state.reset = reset),
		onDrain: () => undefined,
		onDatagram: (datagram) => state.datagrams.push(Buffer.from(datagram).toString()),
	});
	return {
		stream,
		state,
		text: () => Buffer.concat(state.got).toString(),
		bytes: () => state.got.reduce((n, c) => n + c.byteLength, 0),
		/** Reads again: what was held is taken, and credit flows back. */
		release: () => {
			state.hold = false;
			state.held = 0;
			stream.setBuffered(0);
		},
	};
}

function quietMux(
	channel: ReturnType<typeof channelPair>[0]['channel'],
	role: 'client' | 'agent',
	onOpen: (s: MuxStream) => void,
) {
	return new Mux({
		channel,
		role,
		onOpen,
		onRpc: () => undefined,
		onProtocolError: (m) => assert.fail(m),
	});
}

/**
 * Relay mode in memory: a connector's session to the agent, and a provider's. The connector opens
 * a stream, the agent opens one towards the provider (which accepts), and the agent joins the two.
 */
function relay(target: OpenTarget = { kind: 'tcp', host: 'db', port: 5432 }) {
	const [connectorEnd, agentFromConnector] = channelPair();
	const [agentToProvider, providerEnd] = channelPair();
	const atAgent: MuxStream[] = [];
	const atProvider: MuxStream[] = [];
	const connectorMux = quietMux(connectorEnd.channel, 'client', (s) => s.reset(ResetCode.Rejected, 'no'));
	const agentConnectorMux = quietMux(agentFromConnector.channel, 'agent', (s) => atAgent.push(s));
	const agentProviderMux = quietMux(agentToProvider.channel, 'agent', (s) =>
		s.reset(ResetCode.Rejected, 'no'),
	);
	const providerMux = quietMux(providerEnd.channel, 'client', (s) => {
		s.accept();
		atProvider.push(s);
	});
	const connectorStream = connectorMux.open(target);
	const fromConnector = atAgent[0]!;
	const toProvider = agentProviderMux.open(target);
	const provider = endpoint(atProvider[0]!);
	fromConnector.accept();
	const ends: PairEnd[] = [];
	new StreamPairBridge(fromConnector, toProvider, (end) => ends.push(end));
	const connector = endpoint(connectorStream);
	return {
		connector,
		provider,
		fromConnector,
		toProvider,
		ends,
		agentToProvider,
		muxes: [connectorMux, agentConnectorMux, agentProviderMux, providerMux],
	};
}

/** `count` chunks whose bytes tell their place: a reordering or a loss shows in a compare. */
function pattern(count: number): Buffer[] {
	return Array.from({ length: count }, (_, i) => Buffer.alloc(CHUNK_BYTES, i % 251));
}

describe('StreamPairBridge', () => {
	it('carries bytes both ways, in order', () => {
		const { connector, provider } = relay();
		connector.stream.write(Buffer.from('hello '));
		connector.stream.write(Buffer.from('world'));
		provider.stream.write(Buffer.from('pong'));
		provider.stream.write(Buffer.from('!'));
		assert.equal(provider.text(), 'hello world');
		assert.equal(connector.text(), 'pong!');
	});

	it('carries more than a window each way, whole and in order', async () => {
		const { connector, provider } = relay();
		const up = pattern(48);
		const down = pattern(40);
		for (const chunk of up) {
			connector.stream.write(chunk);
		}
		for (const chunk of down) {
			provider.stream.write(chunk);
		}
		await waitFor(() => provider.bytes() === up.length * CHUNK_BYTES, 'the upload to arrive');
		await waitFor(() => connector.bytes() === down.length * CHUNK_BYTES, 'the download to arrive');
		assert.ok(Buffer.concat(provider.state.got).equals(Buffer.concat(up)));
		assert.ok(Buffer.concat(connector.state.got).equals(Buffer.concat(down)));
	});

	it('half-closes each way on its own, and ends clean once both ways have', () => {
		const { connector, provider, ends, muxes } = relay();
		connector.stream.write(Buffer.from('request'));
		connector.stream.end();
		assert.equal(provider.state.ended, true, 'the connector’s End reaches the provider');
		assert.equal(connector.state.ended, false, 'the other way is still open');
		assert.deepEqual(ends, []);
		provider.stream.write(Buffer.from('late reply'));
		assert.equal(connector.text(), 'late reply');
		provider.stream.end();
		assert.equal(connector.state.ended, true);
		assert.deepEqual(ends, [{ kind: 'clean' }]);
		assert.deepEqual(
			muxes.map((m) => m.streamCount),
			[0, 0, 0, 0],
			'no stream is left open anywhere',
		);
	});

	it('half-closes the provider’s way first just as well', () => {
		const { connector, provider, ends } = relay();
		provider.stream.end();
		assert.equal(connector.state.ended, true);
		connector.stream.write(Buffer.from('still sending'));
		assert.equal(provider.text(), 'still sending');
		assert.deepEqual(ends, []);
		connector.stream.end();
		assert.deepEqual(ends, [{ kind: 'clean' }]);
	});

	it('passes a provider’s Reset to the connector with its code', () => {
		const { connector, provider, ends, muxes } = relay();
		provider.stream.reset(ResetCode.Refused, 'connect ECONNREFUSED');
		assert.deepEqual(connector.state.reset, { code: ResetCode.Refused, reason: 'connect ECONNREFUSED' });
		assert.deepEqual(ends, [
			{ kind: 'reset', reset: { code: ResetCode.Refused, reason: 'connect ECONNREFUSED' } },
		]);
		assert.deepEqual(
			muxes.map((m) => m.streamCount),
			[0, 0, 0, 0],
		);
	});

	it('passes a connector’s Reset to the provider with its code', () => {
		const { connector, provider, ends } = relay();
		connector.stream.write(Buffer.from('half a request'));
		connector.stream.reset(ResetCode.Closed, 'the client went away');
		assert.equal(provider.text(), 'half a request');
		assert.deepEqual(provider.state.reset, { code: ResetCode.Closed, reason: 'the client went away' });
		assert.equal(ends.length, 1);
		assert.equal(ends[0]!.kind, 'reset');
	});

	it('carries datagrams both ways', () => {
		const { connector, provider } = relay({ kind: 'udp' });
		assert.equal(connector.stream.sendDatagram(Buffer.from('query')), true);
		assert.deepEqual(provider.state.datagrams, ['query']);
		assert.equal(provider.stream.sendDatagram(Buffer.from('answer')), true);
		assert.deepEqual(connector.state.datagrams, ['answer']);
	});

	it('stops granting the connector credit while the provider reads nothing, holding a window at most', async () => {
		const { connector, provider, toProvider, fromConnector } = relay();
		provider.state.hold = true;
		const chunks = pattern(256); // 16 MiB
		let peak = 0;
		for (const chunk of chunks) {
			connector.stream.write(chunk); // its own queue holds what it may not send yet
			peak = Math.max(peak, toProvider.pendingBytes + fromConnector.pendingBytes);
		}
		const written = chunks.length * CHUNK_BYTES;
		assert.ok(peak <= AGENT_HOLD_BOUND_BYTES, `the agent held ${peak} bytes for a stalled provider`);
		assert.equal(provider.bytes(), STREAM_WINDOW_BYTES, 'the provider got its window and no more');
		assert.ok(
			connector.stream.pendingBytes >= written - provider.bytes() - AGENT_HOLD_BOUND_BYTES,
			`the rest waits at the connector (${connector.stream.pendingBytes} of ${written} bytes)`,
		);
		assert.ok(connector.stream.credit < CHUNK_BYTES, 'the connector is out of credit');
		provider.release();
		await waitFor(() => provider.bytes() === written, 'the rest to arrive once the provider reads');
		assert.ok(Buffer.concat(provider.state.got).equals(Buffer.concat(chunks)), 'in order, nothing lost');
		assert.equal(toProvider.pendingBytes, 0);
	});

	it('stops granting the connector credit while the provider’s session is congested', async () => {
		const { connector, provider, toProvider, agentToProvider } = relay();
		agentToProvider.congested = true; // the provider's socket takes nothing
		const chunks = pattern(128); // 8 MiB
		let peak = 0;
		for (const chunk of chunks) {
			connector.stream.write(chunk);
			peak = Math.max(peak, toProvider.pendingBytes);
		}
		const written = chunks.length * CHUNK_BYTES;
		assert.equal(provider.bytes(), 0, 'nothing got through the congested session');
		assert.ok(peak <= AGENT_HOLD_BOUND_BYTES, `the agent queued ${peak} bytes for a congested provider`);
		assert.ok(
			connector.stream.pendingBytes >= written - 2 * AGENT_HOLD_BOUND_BYTES,
			`the rest waits at the connector (${connector.stream.pendingBytes} of ${written} bytes)`,
		);
		agentToProvider.drain();
		await waitFor(() => provider.bytes() === written, 'the rest to arrive once the session drains');
		assert.ok(Buffer.concat(provider.state.got).equals(Buffer.concat(chunks)), 'in order, nothing lost');
	});

	it('stops granting the provider credit while the connector reads nothing', async () => {
		const { connector, provider, fromConnector, toProvider } = relay();
		connector.state.hold = true;
		const chunks = pattern(128);
		let peak = 0;
		for (const chunk of chunks) {
			provider.stream.write(chunk);
			peak = Math.max(peak, fromConnector.pendingBytes + toProvider.pendingBytes);
		}
		assert.ok(peak <= AGENT_HOLD_BOUND_BYTES, `the agent held ${peak} bytes for a stalled connector`);
		assert.equal(connector.bytes(), STREAM_WINDOW_BYTES);
		connector.release();
		await waitFor(() => connector.bytes() === chunks.length * CHUNK_BYTES, 'the rest to arrive');
		assert.ok(Buffer.concat(connector.state.got).equals(Buffer.concat(chunks)));
	});

	it('resetBoth ends both streams as the session closing', () => {
		const { connector, provider, fromConnector, toProvider } = relay();
		StreamPairBridge.resetBoth(fromConnector, toProvider, 'the agent is stopping');
		const expected = { code: ResetCode.SessionClosed, reason: 'the agent is stopping' };
		assert.deepEqual(connector.state.reset, expected);
		assert.deepEqual(provider.state.reset, expected);
	});
});
