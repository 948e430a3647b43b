import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { readFirstLine } from '../../../server/cli/read-first-line';

/** Lets the stream deliver what was written before the next piece. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('readFirstLine', () => {
	it('waits for a producer that writes late and in pieces, up to the end', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 64, 'stdin');
		for (const piece of ['abc', 'def', 'ghi']) {
			await turn();
			input.write(piece);
		}
		input.end();
		assert.equal(await line, 'abcdefghi');
	});

	it('stops at the first newline (kept), leaving the rest unread, even if the input never ends', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 64, 'stdin');
		input.write('tok');
		await turn();
		input.write('en\nnext line\n');
		assert.equal(await line, 'token\n');
		assert.ok(input.isPaused(), 'the input is paused again');
	});

	it('reads an input as long as the bound, in pieces of any size', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 8 * 1024, 'stdin');
		const text = 'x'.repeat(8 * 1024 - 1) + '\n';
		for (let i = 0; i < text.length; i += 1000) {
			input.write(text.slice(i, i + 1000));
			await turn();
		}
		assert.equal(await line, text);
	});

	it('refuses more than the bound before a newline, naming the input', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 1024, 'stdin');
		input.write(Buffer.alloc(1025));
		await assert.rejects(line, {
			code: 'BERTH_ERR_TOKEN',
			message: /^stdin holds more than 1 KiB before a newline/,
		});
	});

	it('turns an input error into a token error', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 64, 'stdin');
		input.destroy(new Error('EIO'));
		await assert.rejects(line, { code: 'BERTH_ERR_TOKEN', message: /cannot read stdin: EIO/ });
	});

	it('gives an empty string for an input that ends at once', async () => {
		const input = new PassThrough();
		const line = readFirstLine(input, 64, 'stdin');
		input.end();
		assert.equal(await line, '');
	});
});
