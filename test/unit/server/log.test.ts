import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactUrl, tokenPrefix } from '../../../server/shared/log';

describe('logging', () => {
	it('redacts secrets in URLs', () => {
		assert.equal(redactUrl('/?tkn=secret&folder=x'), '/?tkn=***&folder=x');
		assert.equal(redactUrl('http://h:1/?token=s'), 'http://h:1/?token=***');
		assert.equal(redactUrl('http://u:pw@h/'), 'http://u:***@h/');
		assert.equal(redactUrl('/plain'), '/plain');
	});

	it('writes text lines with key=value fields, and JSON lines', () => {
		const lines: string[] = [];
		const now = () => new Date('2026-01-02T03:04:05.000Z');
		createLogger({ format: 'text', level: 'info', write: (l) => lines.push(l), now })
			.fork('agent')
			.info('connection', { peer: '127.0.0.1:1', reason: 'two words' });
		createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l), now }).warn('w', { n: 1 });
		createLogger({ format: 'text', level: 'warn', write: (l) => lines.push(l), now }).info('dropped');
		assert.deepEqual(lines, [
			'2026-01-02T03:04:05.000Z info  agent: connection peer=127.0.0.1:1 reason="two words"',
			'{"time":"2026-01-02T03:04:05.000Z","level":"warn","message":"w","n":1}',
		]);
	});

	it('shows only a prefix of identifiers', () => {
		assert.equal(tokenPrefix('0123456789abcdef'), '01234567');
	});
});
