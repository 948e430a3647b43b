import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	encodeFrame,
	encodeFrameHeader,
	encodeOpen,
	encodeReset,
	encodeWindow,
	FrameKind,
	parseMuxArgs,
	parseOpenTarget,
	parseReset,
	ResetCode,
	MUX_VERSION,
} from '../../../protocol/mux-frames';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const utf8 = (text: string): string => Buffer.from(text).toString('hex');

/**
 * The frames byte for byte, written out by hand from the table in mux-frames.ts: a change to the
 * encoding that both ends would agree on (and a round trip would not notice) fails here.
 */
describe('Mux frames, byte for byte', () => {
	const rows: { name: string; frame: Uint8Array; bytes: string }[] = [
		{
			name: 'Rpc on stream 0',
			frame: encodeFrame(FrameKind.Rpc, 0, Buffer.from('{}')),
			bytes: '00' + '00000000' + '7b7d',
		},
		{
			name: 'Open tcp on stream 1',
			frame: encodeOpen(1, { kind: 'tcp', host: 'db', port: 5432 }),
			bytes: '01' + '00000001' + utf8('{"kind":"tcp","host":"db","port":5432}'),
		},
		{
			name: 'Open reverse on stream 2',
			frame: encodeOpen(2, { kind: 'reverse', forward: 'f1', from: '127.0.0.1:5' }),
			bytes: '01' + '00000002' + utf8('{"kind":"reverse","forward":"f1","from":"127.0.0.1:5"}'),
		},
		{
			name: 'Open tcp that wants no OpenOk',
			frame: encodeOpen(3, { kind: 'tcp', host: 'db', port: 5432, openOk: false }),
			bytes: '01' + '00000003' + utf8('{"kind":"tcp","host":"db","port":5432,"openOk":false}'),
		},
		{ name: 'OpenOk', frame: encodeFrame(FrameKind.OpenOk, 7), bytes: '02' + '00000007' },
		{ name: 'Data header', frame: encodeFrameHeader(FrameKind.Data, 0x01020304), bytes: '03' + '01020304' },
		{ name: 'End', frame: encodeFrame(FrameKind.End, 9), bytes: '04' + '00000009' },
		{
			name: 'Reset with a code and a reason',
			frame: encodeReset(3, { code: ResetCode.Refused, reason: 'connect ECONNREFUSED' }),
			bytes: '05' + '00000003' + '02' + utf8('connect ECONNREFUSED'),
		},
		{
			name: 'Window of 256 KiB',
			frame: encodeWindow(5, 256 * 1024),
			bytes: '06' + '00000005' + '00040000',
		},
	];
	for (const row of rows) {
		it(`encodes ${row.name}`, () => {
			assert.equal(hex(row.frame), row.bytes);
		});
	}
});

describe('parseOpenTarget', () => {
	const body = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
	const good: { input: unknown; target: unknown }[] = [
		{ input: { kind: 'tcp', host: 'db', port: 5432 }, target: { kind: 'tcp', host: 'db', port: 5432 } },
		{ input: { kind: 'tcp', host: '::1', port: 1 }, target: { kind: 'tcp', host: '::1', port: 1 } },
		{ input: { kind: 'reverse', forward: 'x' }, target: { kind: 'reverse', forward: 'x' } },
		{
			input: { kind: 'reverse', forward: 'x', from: '1.2.3.4:5', extra: true },
			target: { kind: 'reverse', forward: 'x', from: '1.2.3.4:5' },
		},
		// A UDP association names no destination: each datagram carries its own.
		{ input: { kind: 'udp', host: 'h', port: 53 }, target: { kind: 'udp' } },
		// `via` names a provider (relay mode): kept when it is a string of 1 to 64 characters,
		// dropped otherwise (the stream then goes to the next provider in turn).
		{
			input: { kind: 'tcp', host: 'db', port: 1, via: 'eu.1' },
			target: { kind: 'tcp', host: 'db', port: 1, via: 'eu.1' },
		},
		{ input: { kind: 'udp', via: 'v'.repeat(64) }, target: { kind: 'udp', via: 'v'.repeat(64) } },
		{
			input: { kind: 'tcp', host: 'db', port: 1, via: 'v'.repeat(65) },
			target: { kind: 'tcp', host: 'db', port: 1 },
		},
		{ input: { kind: 'tcp', host: 'db', port: 1, via: '' }, target: { kind: 'tcp', host: 'db', port: 1 } },
		{ input: { kind: 'udp', via: 7 }, target: { kind: 'udp' } },
		{ input: { kind: 'reverse', forward: 'x', via: 'eu' }, target: { kind: 'reverse', forward: 'x' } },
		// `openOk: false` (a port forward's stream: no OpenOk wanted) is kept for tcp and reverse;
		// any other value, and the field on a udp target, is dropped (OpenOk is then sent).
		{
			input: { kind: 'tcp', host: 'db', port: 1, openOk: false },
			target: { kind: 'tcp', host: 'db', port: 1, openOk: false },
		},
		{
			input: { kind: 'reverse', forward: 'x', openOk: false },
			target: { kind: 'reverse', forward: 'x', openOk: false },
		},
		{
			input: { kind: 'tcp', host: 'db', port: 1, openOk: true },
			target: { kind: 'tcp', host: 'db', port: 1 },
		},
		{ input: { kind: 'tcp', host: 'db', port: 1, openOk: 0 }, target: { kind: 'tcp', host: 'db', port: 1 } },
		{ input: { kind: 'udp', openOk: false }, target: { kind: 'udp' } },
	];
	for (const row of good) {
		it(`reads ${JSON.stringify(row.input)}`, () => {
			assert.deepEqual(parseOpenTarget(body(row.input)), row.target);
		});
	}
	const bad: unknown[] = [
		{ host: 'db', port: 5432 }, // no kind (version 1's shape)
		{ kind: 'tcp', host: '', port: 1 },
		{ kind: 'tcp', host: 'h'.repeat(256), port: 1 },
		{ kind: 'tcp', host: 'h', port: 0 },
		{ kind: 'tcp', host: 'h', port: 65536 },
		{ kind: 'tcp', host: 'h', port: '80' },
		{ kind: 'reverse', forward: '' },
		{ kind: 'reverse', forward: 'f'.repeat(65) },
		{ kind: 'datagram' },
		[1, 2],
		'text',
	];
	for (const input of bad) {
		it(`refuses ${JSON.stringify(input).slice(0, 60)}`, () => {
			assert.equal(parseOpenTarget(body(input)), undefined);
		});
	}
	it('refuses bodies over 1 KiB and bytes that are not JSON', () => {
		assert.equal(
			parseOpenTarget(Buffer.from(`{"kind":"tcp","host":"${'a'.repeat(1100)}","port":1}`)),
			undefined,
		);
		assert.equal(parseOpenTarget(Buffer.from([0xff, 0xfe, 0x7b])), undefined);
	});
});

describe('parseReset', () => {
	it('reads the code and the reason', () => {
		assert.deepEqual(parseReset(Buffer.from('05' + utf8('policy'), 'hex')), {
			code: ResetCode.PolicyDenied,
			reason: 'policy',
		});
	});
	it('reads an unknown code (a newer peer) as Error, and an empty body as a reset without words', () => {
		assert.deepEqual(parseReset(Buffer.from('c8' + utf8('new'), 'hex')), {
			code: ResetCode.Error,
			reason: 'new',
		});
		assert.deepEqual(parseReset(new Uint8Array(0)), { code: ResetCode.Error, reason: 'reset by peer' });
	});
	it('cuts a long reason at 512 characters', () => {
		const reset = parseReset(Buffer.concat([Buffer.from([1]), Buffer.from('x'.repeat(5000))]));
		assert.equal(reset.reason.length, 512);
	});
});

describe('parseMuxArgs', () => {
	it('takes this version with or without features', () => {
		assert.deepEqual(parseMuxArgs({ version: MUX_VERSION }), { version: MUX_VERSION, features: [] });
		assert.deepEqual(parseMuxArgs({ version: MUX_VERSION, features: ['a', 'b'] }), {
			version: MUX_VERSION,
			features: ['a', 'b'],
		});
	});
	it('refuses another version, and features that are not a short list of short strings', () => {
		for (const args of [
			{ version: 1 },
			{ version: MUX_VERSION + 1 },
			{ version: MUX_VERSION, features: 'a' },
			{ version: MUX_VERSION, features: [1] },
			{ version: MUX_VERSION, features: Array.from({ length: 33 }, () => 'f') },
			{ version: MUX_VERSION, features: ['f'.repeat(65)] },
			null,
		]) {
			assert.equal(parseMuxArgs(args), undefined, JSON.stringify(args));
		}
	});
});
