import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	formatSshHostLine,
	parseSshHostLine,
	parseToSshHost,
	type FromSshHost,
} from '../../../protocol/ssh-bootstrap';

const TOKEN = 'A'.repeat(43);
const SHA = 'ab'.repeat(32);

describe("berth ssh's dialogue with the host", () => {
	const messages: FromSshHost[] = [
		{ type: 'no-node', reason: 'missing' },
		{ type: 'no-node', reason: 'too-old', version: '18.19.0' },
		{ type: 'hello', node: '20.11.1', sha256: SHA },
		{ type: 'hello', node: '22.0.0', sha256: null },
		{ type: 'installed' },
		{ type: 'agent', port: 40123, pid: 77, reused: false },
		{ type: 'agent', port: 40123, pid: 77, reused: true, token: TOKEN },
		{ type: 'stopped' },
		{ type: 'stopped', pid: 9 },
		{ type: 'error', message: 'the agent did not start' },
		{ type: 'exit', status: 1 },
	];
	for (const message of messages) {
		it(`reads back ${JSON.stringify(message)}`, () =>
			assert.deepEqual(parseSshHostLine(formatSshHostLine(message)), message));
	}

	const skipped = [
		'Welcome to devbox!',
		'berth-ssh not json',
		'berth-ssh []',
		'berth-ssh {"type":"unknown"}',
		'berth-ssh {"type":"hello","node":"20","sha256":"short"}',
		'berth-ssh {"type":"agent","port":0,"pid":1,"reused":true}',
		'berth-ssh {"type":"agent","port":1,"pid":1,"reused":"yes"}',
		`berth-ssh {"type":"agent","port":1,"pid":1,"reused":true,"token":"short"}`,
		`berth-ssh {"type":"agent","port":1,"pid":1,"reused":true,"token":"${'a'.repeat(20)} x"}`,
		'berth-ssh {"type":"no-node","reason":"elsewhere"}',
		'berth-ssh {"type":"exit","status":300}',
		`berth-ssh {"type":"error","message":"${'x'.repeat(20_000)}"}`,
	];
	for (const line of skipped) {
		it(`skips ${JSON.stringify(line.slice(0, 60))}`, () => assert.equal(parseSshHostLine(line), undefined));
	}

	it('reads the client`s requests, and refuses a token that breaks the rules', () => {
		assert.deepEqual(parseToSshHost(JSON.stringify({ type: 'ensure', token: TOKEN })), {
			type: 'ensure',
			token: TOKEN,
		});
		assert.deepEqual(parseToSshHost('{"type":"stop"}'), { type: 'stop' });
		assert.equal(parseToSshHost('{"type":"ensure","token":"short"}'), undefined);
		assert.equal(parseToSshHost('{"type":"ensure","token":"has spaces in it, sixteen+"}'), undefined);
		assert.equal(parseToSshHost('{"type":"upload"}'), undefined);
		assert.equal(parseToSshHost('nonsense'), undefined);
	});
});
