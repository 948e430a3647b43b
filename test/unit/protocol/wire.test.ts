import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	parseAuthRequest,
	parseConnectionTypeRequest,
	parseServerReply,
	parseTunnelArgs,
} from '../../../protocol/wire';

const bytes = (s: string) => Buffer.from(s);

describe('handshake parsers', () => {
	const first: [string, unknown][] = [
		['{not json', { error: 'Malformed first message' }],
		['"a string"', { error: 'Malformed first message' }],
		['[1,2]', { error: 'Malformed first message' }],
		['{"type":"connectionType"}', { error: 'Invalid first message' }],
		['{"type":"auth","auth":"t"}', { error: 'Invalid first message' }],
		['{"type":"auth","auth":"t","data":"' + 'x'.repeat(2000) + '"}', { error: 'Invalid first message' }],
		['{"type":"auth","auth":"t","data":"c"}', { type: 'auth', auth: 't', data: 'c' }],
		['{"type":"auth","data":"c"}', { type: 'auth', auth: '', data: 'c' }],
	];
	for (const [input, expected] of first) {
		it(`first message ${input.slice(0, 40)} → ${JSON.stringify(expected).slice(0, 60)}`, () => {
			assert.deepEqual(parseAuthRequest(bytes(input)), expected);
		});
	}

	const second: [string, unknown][] = [
		['nope', { error: 'Malformed second message' }],
		['{"type":"auth"}', { error: 'Invalid second message' }],
		['{"type":"connectionType","signedData":5}', { error: 'Invalid second message field type' }],
		['{"type":"connectionType","signedData":"s","commit":7}', { error: 'Invalid second message field type' }],
		[
			'{"type":"connectionType","signedData":"s","desiredConnectionType":3,"args":{"host":"h","port":1}}',
			{ type: 'connectionType', desiredConnectionType: 3, signedData: 's', args: { host: 'h', port: 1 } },
		],
	];
	for (const [input, expected] of second) {
		it(`second message ${input.slice(0, 50)} → ${JSON.stringify(expected).slice(0, 60)}`, () => {
			assert.deepEqual(parseConnectionTypeRequest(bytes(input)), expected);
		});
	}

	it('reads a missing desiredConnectionType as unknown (NaN), for "Unknown initial data received"', () => {
		const parsed = parseConnectionTypeRequest(bytes('{"type":"connectionType","signedData":"s"}'));
		assert.ok('desiredConnectionType' in parsed && Number.isNaN(parsed.desiredConnectionType));
	});

	it('reads server replies on the client side', () => {
		assert.deepEqual(parseServerReply(bytes('{"type":"sign","data":"d","signedData":"s"}')), {
			type: 'sign',
			data: 'd',
			signedData: 's',
		});
		assert.deepEqual(parseServerReply(bytes('{"type":"ok"}')), { type: 'ok' });
		assert.deepEqual(parseServerReply(bytes('{"type":"error","reason":"r"}')), {
			type: 'error',
			reason: 'r',
		});
		assert.equal(parseServerReply(bytes('{"debugPort":1}')), undefined);
		assert.equal(parseServerReply(bytes('{"type":"sign","data":1}')), undefined);
	});

	it('validates Tunnel args', () => {
		assert.deepEqual(parseTunnelArgs({ host: 'localhost', port: 80 }), { host: 'localhost', port: 80 });
		for (const bad of [
			undefined,
			{},
			{ host: '', port: 80 },
			{ host: 'h', port: 0 },
			{ host: 'h', port: 70000 },
			{ host: 'h', port: 1.5 },
			{ host: 5, port: 80 },
		]) {
			assert.equal(parseTunnelArgs(bad), undefined, JSON.stringify(bad));
		}
	});
});
