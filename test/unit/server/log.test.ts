import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactUrl, tokenPrefix } from '../../../server/shared/log';
import { ensureNoLeaks } from '../../helpers/leaks';

describe('logging', () => {
	const leaks = ensureNoLeaks();

	it('redacts secrets in URLs', () => {
		assert.equal(redactUrl('/?tkn=secret&folder=x'), '/?tkn=***&folder=x');
		assert.equal(redactUrl('http://h:1/?token=s'), 'http://h:1/?token=***');
		assert.equal(redactUrl('http://u:pw@h/'), 'http://u:***@h/');
		assert.equal(redactUrl('/plain'), '/plain');
		assert.equal(redactUrl('/auth/callback?code=c1&state=s1'), '/auth/callback?code=***&state=***');
		assert.equal(redactUrl('/auth/device?code=ABC-234'), '/auth/device?code=***');
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

	it('coalesces identical lines of any component within the window, and keeps different ones apart', () => {
		const timers = leaks.timers();
		const lines: string[] = [];
		const now = () => new Date('2026-01-02T03:04:05.000Z');
		const log = createLogger({ format: 'text', level: 'info', write: (l) => lines.push(l), now, timers });
		const agent = log.fork('agent');
		for (let i = 0; i < 500; i++) {
			agent.warn('forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED', { n: 1 });
		}
		agent.warn('forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED', { n: 2 });
		log.warn('forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED', { n: 1 });
		timers.advance(10_000);
		assert.deepEqual(lines, [
			'2026-01-02T03:04:05.000Z warn  agent: forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED n=1',
			'2026-01-02T03:04:05.000Z warn  agent: forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED n=2',
			'2026-01-02T03:04:05.000Z warn  forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED n=1',
			'2026-01-02T03:04:05.000Z warn  agent: forward 127.0.0.1:1 -> 127.0.0.1:2: connect ECONNREFUSED (… 499 more in 10 s) n=1',
		]);
		log.dispose();
	});

	it('says how many lines a JSON summary stands for, and writes pending summaries on dispose', () => {
		const timers = leaks.timers();
		const lines: string[] = [];
		const now = () => new Date('2026-01-02T03:04:05.000Z');
		const log = createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l), now, timers });
		log.info('the session closed');
		log.info('the session closed');
		log.dispose();
		assert.deepEqual(
			lines.map((l) => JSON.parse(l) as unknown),
			[
				{ time: '2026-01-02T03:04:05.000Z', level: 'info', message: 'the session closed' },
				{
					time: '2026-01-02T03:04:05.000Z',
					level: 'info',
					message: 'the session closed (… 1 more in 10 s)',
					repeated: 1,
				},
			],
		);
	});

	it('shows only a prefix of identifiers', () => {
		assert.equal(tokenPrefix('0123456789abcdef'), '01234567');
	});
});
