import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageReader } from '../../../protocol/message-reader';
import { encodeMessage, MessageType } from '../../../protocol/wire';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('MessageReader', () => {
	it('parses a Regular message from its 13-byte header (type, id, ack, length)', () => {
		const reader = new MessageReader();
		reader.feed(hex('01 00000007 00000003 00000002 6869'));
		const m = reader.read()!;
		assert.deepEqual(
			{ type: m.type, id: m.id, ack: m.ack, payload: Buffer.from(m.payload).toString() },
			{ type: 1, id: 7, ack: 3, payload: 'hi' },
		);
		assert.equal(reader.read(), undefined);
	});

	it('parses a message spanning many writes, one byte at a time', () => {
		const reader = new MessageReader();
		const bytes = encodeMessage(MessageType.Control, 0, 0, Buffer.from('{"type":"auth"}'));
		for (let i = 0; i < bytes.length - 1; i++) {
			reader.feed(bytes.subarray(i, i + 1));
			assert.equal(reader.read(), undefined, `complete after ${i + 1} bytes?`);
		}
		reader.feed(bytes.subarray(bytes.length - 1));
		assert.equal(Buffer.from(reader.read()!.payload).toString(), '{"type":"auth"}');
	});

	it('parses several messages from one write, and keeps a partial one for later', () => {
		const reader = new MessageReader();
		const a = encodeMessage(MessageType.KeepAlive, 0, 5);
		const b = encodeMessage(MessageType.Regular, 1, 0, Buffer.from('abc'));
		const c = encodeMessage(MessageType.Regular, 2, 0, Buffer.from('defg'));
		reader.feed(Buffer.concat([a, b, c.subarray(0, 15)]));
		assert.equal(reader.read()!.type, MessageType.KeepAlive);
		assert.equal(Buffer.from(reader.read()!.payload).toString(), 'abc');
		assert.equal(reader.read(), undefined);
		reader.feed(c.subarray(15));
		assert.equal(Buffer.from(reader.read()!.payload).toString(), 'defg');
	});

	it('refuses a 4 GiB length at once, before any payload arrives', () => {
		const reader = new MessageReader({ maxControlBytes: 1 << 20, maxMessageBytes: 1 << 22 });
		reader.feed(hex('01 00000001 00000000 ffffffff'));
		assert.throws(() => reader.read(), { code: 'BERTH_ERR_PROTOCOL', message: /4294967295 bytes/ });
	});

	it('bounds Control messages at 1 MiB and other types at their own bound', () => {
		const reader = new MessageReader({ maxControlBytes: 1 << 20, maxMessageBytes: 64 });
		reader.feed(hex('02 00000000 00000000 00100001'));
		assert.throws(() => reader.read(), /type 2 announces 1048577 bytes/);
		const other = new MessageReader({ maxControlBytes: 1 << 20, maxMessageBytes: 64 });
		other.feed(hex('01 00000001 00000000 00000041'));
		assert.throws(() => other.read(), /over the bound of 64/);
		const exact = new MessageReader({ maxControlBytes: 1 << 20, maxMessageBytes: 64 });
		exact.feed(encodeMessage(MessageType.Regular, 1, 0, new Uint8Array(64)));
		assert.equal(exact.read()!.payload.byteLength, 64);
	});

	it('applies new limits to every header not read yet, bytes already buffered included', () => {
		const reader = new MessageReader({ maxControlBytes: 4, maxMessageBytes: 0 });
		const big = encodeMessage(MessageType.Control, 0, 0, Buffer.from('0123456789'));
		reader.feed(big.subarray(0, 13)); // buffered, not read yet
		reader.setLimits({ maxControlBytes: 10, maxMessageBytes: 0 });
		reader.feed(big.subarray(13));
		assert.equal(Buffer.from(reader.read()!.payload).toString(), '0123456789');
		reader.setLimits({ maxControlBytes: 9, maxMessageBytes: 0 });
		reader.feed(big);
		assert.throws(() => reader.read(), /announces 10 bytes, over the bound of 9/);
	});

	it('returns a view without copying when the payload lies in one chunk', () => {
		const reader = new MessageReader();
		const bytes = encodeMessage(MessageType.Regular, 1, 0, new Uint8Array(100).fill(7));
		reader.feed(bytes);
		const m = reader.read()!;
		assert.equal(m.payload.buffer, bytes.buffer);
	});

	it('hands over the unparsed rest with drain()', () => {
		const reader = new MessageReader();
		reader.feed(
			Buffer.concat([encodeMessage(MessageType.Control, 0, 0, Buffer.from('{}')), Buffer.from('raw bytes')]),
		);
		assert.equal(reader.read()!.type, MessageType.Control);
		assert.equal(Buffer.concat(reader.drain()).toString(), 'raw bytes');
		assert.equal(reader.bufferedBytes, 0);
	});
});
