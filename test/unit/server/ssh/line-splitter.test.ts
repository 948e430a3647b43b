import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLineSplitter } from '../../../../server/client/ssh/line-splitter';

describe('createLineSplitter', () => {
	function split(chunks: string[], max = 8): string[] {
		const lines: string[] = [];
		const feed = createLineSplitter(max, (line) => lines.push(line));
		chunks.forEach((c) => feed(Buffer.from(c)));
		return lines;
	}

	it('joins lines split across chunks, and strips a carriage return', () => {
		assert.deepEqual(split(['ab', 'c\nde', 'f\r\n', '\n']), ['abc', 'def', '']);
	});

	it('keeps a line that is not finished yet', () => {
		assert.deepEqual(split(['abc\nde']), ['abc']);
	});

	it('drops a line over the bound whole, and goes on with the next', () => {
		assert.deepEqual(split(['123456', '789', 'abc\nok\n']), ['ok']);
		assert.deepEqual(split(['123456789\nok\n']), ['ok']);
		assert.deepEqual(split(['12345678\n']), ['12345678']);
	});
});
