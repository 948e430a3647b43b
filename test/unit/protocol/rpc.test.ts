import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	isClientListener,
	isForwardInfo,
	parseListClientsResult,
	parseNetworkIdentity,
	type AgentClientInfo,
	type ForwardInfo,
} from '../../../protocol/rpc';

const VALID: ForwardInfo = {
	id: 'f1',
	direction: 'remote',
	bindHost: '127.0.0.1',
	bindPort: 8080,
	targetHost: 'localhost',
	targetPort: 3000,
	state: 'active',
	counters: { open: 1, total: 4, bytesIn: 10, bytesOut: 20 },
};

describe('isForwardInfo', () => {
	it('accepts a forward as the agent sends it, with or without the optional texts', () => {
		assert.equal(isForwardInfo(VALID), true);
		assert.equal(
			isForwardInfo({
				...VALID,
				state: 'failed',
				error: 'listen EADDRINUSE',
				counters: { ...VALID.counters, lastError: 'connect ECONNREFUSED' },
			}),
			true,
		);
	});

	const broken: [string, unknown][] = [
		['not an object', 'f1'],
		['an array', [VALID]],
		['no id', { ...VALID, id: undefined }],
		['an unknown direction', { ...VALID, direction: 'dynamic' }],
		['a port out of range', { ...VALID, bindPort: 65_536 }],
		['a fractional port', { ...VALID, targetPort: 80.5 }],
		['a host of 256 characters', { ...VALID, targetHost: 'a'.repeat(256) }],
		['an unknown state', { ...VALID, state: 'paused' }],
		['no counters', { ...VALID, counters: undefined }],
		['a negative counter', { ...VALID, counters: { ...VALID.counters, open: -1 } }],
		['a counter as text', { ...VALID, counters: { ...VALID.counters, bytesIn: '10' } }],
		['an error that is not text', { ...VALID, error: { message: 'x' } }],
	];
	for (const [what, value] of broken) {
		it(`refuses ${what}`, () => {
			assert.equal(isForwardInfo(value), false);
		});
	}
});

const CLIENT: AgentClientInfo = {
	id: 'streams#3',
	kind: 'streams',
	address: '127.0.0.1:51234',
	name: 'berth forward on laptop',
	since: 1_700_000_000_000,
	forwards: [VALID],
	streams: 2,
	isSelf: false,
};

describe('parseListClientsResult', () => {
	it('accepts a list as the agent sends it, with or without a name', () => {
		const nameless = { ...CLIENT, name: undefined, kind: 'management', forwards: [], isSelf: true };
		assert.deepEqual(parseListClientsResult({ clients: [CLIENT, nameless] }), [CLIENT, nameless]);
		assert.deepEqual(parseListClientsResult({ clients: [] }), []);
	});

	const broken: [string, unknown][] = [
		['not an object', [CLIENT]],
		['no list', {}],
		['an unknown kind', { clients: [{ ...CLIENT, kind: 'tunnel' }] }],
		['a broken forward', { clients: [{ ...CLIENT, forwards: [{ ...VALID, state: 'paused' }] }] }],
		['a name over 128 characters', { clients: [{ ...CLIENT, name: 'n'.repeat(129) }] }],
		['a since that is text', { clients: [{ ...CLIENT, since: '2026-01-01' }] }],
		['no isSelf', { clients: [{ ...CLIENT, isSelf: undefined }] }],
	];
	for (const [what, value] of broken) {
		it(`refuses ${what}`, () => {
			assert.equal(parseListClientsResult(value), undefined);
		});
	}
});

describe('parseNetworkIdentity and isClientListener', () => {
	it('reads a network identity, and treats anything else as absent', () => {
		assert.equal(
			parseNetworkIdentity('0123456789abcdef0123456789abcdef'),
			'0123456789abcdef0123456789abcdef',
		);
		assert.equal(parseNetworkIdentity(undefined), undefined);
		assert.equal(parseNetworkIdentity(''), undefined);
		assert.equal(parseNetworkIdentity('a b'), undefined);
		assert.equal(parseNetworkIdentity('a'.repeat(129)), undefined);
	});

	it('checks a declared listener', () => {
		assert.equal(isClientListener({ host: '127.0.0.1', port: 40677 }), true);
		assert.equal(isClientListener({ host: '127.0.0.1', port: 0 }), false);
		assert.equal(isClientListener({ host: 1, port: 40677 }), false);
	});
});
