import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	createCoalescingSink,
	createSinkLogger,
	redactSecrets,
	type LogLevel,
} from '../../../extension/logger';
import { LOG_COALESCE_WINDOW_MS } from '../../../protocol/log-coalescer';
import { ensureNoLeaks } from '../../helpers/leaks';

describe('the extension logger', () => {
	it('prefixes component chains and masks known secrets', () => {
		const lines: [LogLevel, string][] = [];
		const log = createSinkLogger(
			(level, text) => lines.push([level, text]),
			() => ['s3cr3t-token-value'],
		);
		log.fork('agent').fork('session#3').warn('auth s3cr3t-token-value refused');
		log.info('plain');
		assert.deepEqual(lines, [
			['warn', 'agent: session#3: auth *** refused'],
			['info', 'plain'],
		]);
	});

	it('masks token query parameters even when the token is not known', () => {
		assert.equal(redactSecrets('GET /?tkn=abc&x=1 and ?token=def', []), 'GET /?tkn=***&x=1 and ?token=***');
	});

	it('does not mask secrets too short to be tokens', () => {
		assert.equal(redactSecrets('a b c', ['a']), 'a b c');
	});
});

describe('the coalescing log sink', () => {
	const leaks = ensureNoLeaks();

	it('writes a repeated line once, then how many more came in the window', () => {
		const timers = leaks.timers();
		const lines: [LogLevel, string][] = [];
		const sink = createCoalescingSink((level, text) => lines.push([level, text]), timers);
		for (let i = 1; i <= 1205; i++) {
			sink('warn', `agent: session#${i}: the session closed`);
		}
		sink('info', 'something else');
		assert.deepEqual(lines, [
			['warn', 'agent: session#1: the session closed'],
			['info', 'something else'],
		]);
		timers.advance(LOG_COALESCE_WINDOW_MS);
		assert.deepEqual(lines.slice(2), [
			['warn', 'agent: session#1: the session closed (… 1,204 more in 10 s)'],
		]);
		sink('warn', 'agent: session#9999: the session closed');
		assert.equal(lines.at(-1)![1], 'agent: session#9999: the session closed', 'a new window starts in full');
		sink.dispose();
		assert.equal(timers.pending, 0);
	});

	it('keeps lines at different levels or with different words apart, and writes the rest on dispose', () => {
		const timers = leaks.timers();
		const lines: string[] = [];
		const sink = createCoalescingSink((_level, text) => lines.push(text), timers);
		sink('warn', 'forwarding 127.0.0.1:3000');
		sink('warn', 'forwarding 127.0.0.1:3001');
		sink('error', 'forwarding 127.0.0.1:3001');
		sink('error', 'forwarding 127.0.0.1:3001');
		sink.dispose();
		assert.deepEqual(lines, [
			'forwarding 127.0.0.1:3000',
			'forwarding 127.0.0.1:3001',
			'forwarding 127.0.0.1:3001',
			'forwarding 127.0.0.1:3001 (… 1 more in 10 s)',
		]);
	});
});
