import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatListeningLine, parseListeningLine } from '../../../protocol/listening-line';

describe('the agent’s listening line', () => {
	it('is exactly “Berth agent listening on URL”, and parses back to the URL', () => {
		const line = formatListeningLine('ws://127.0.0.1:8765');
		assert.equal(line, 'Berth agent listening on ws://127.0.0.1:8765');
		assert.equal(parseListeningLine(line), 'ws://127.0.0.1:8765');
		assert.equal(parseListeningLine(formatListeningLine('ws://[::1]:1')), 'ws://[::1]:1');
	});

	it('is refused with anything before or after it, or another scheme', () => {
		for (const line of [
			'Berth agent listening on ws://127.0.0.1:8765 ',
			' Berth agent listening on ws://127.0.0.1:8765',
			'Berth agent listening on http://127.0.0.1:8765',
			'Berth agent listening on ',
			'Status page: http://127.0.0.1:8765/',
		]) {
			assert.equal(parseListeningLine(line), undefined, line);
		}
	});
});
