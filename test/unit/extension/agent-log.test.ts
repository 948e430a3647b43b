import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAgentLogRecord, parseAgentLogLine } from '../../../extension/agent/agent-log';

const line = (fields: Record<string, unknown>): string =>
	JSON.stringify({ time: '2026-11-24T22:00:00.000Z', level: 'info', ...fields });

describe('parseAgentLogLine', () => {
	it('reads a JSON log line and drops its time', () => {
		assert.deepEqual(
			parseAgentLogLine(line({ component: 'session#1', message: 'client disconnected', n: 2 })),
			{
				level: 'info',
				component: 'session#1',
				message: 'client disconnected',
				fields: { n: 2 },
			},
		);
	});

	it('maps unknown levels to info and leaves other lines alone', () => {
		assert.equal(parseAgentLogLine(line({ level: 'loud', message: 'x' }))?.level, 'info');
		assert.equal(parseAgentLogLine('plain text'), undefined);
		assert.equal(parseAgentLogLine('{"no":"message"}'), undefined);
		assert.equal(parseAgentLogLine('{broken'), undefined);
	});
});

describe('formatAgentLogRecord', () => {
	it('writes component, message and fields on one line', () => {
		const record = parseAgentLogLine(
			line({
				component: 'agent',
				message: 'connection',
				peer: '127.0.0.1:5',
				outcome: 'refused',
				reason: 'auth mismatch',
			}),
		)!;
		assert.equal(
			formatAgentLogRecord(record),
			'connection peer=127.0.0.1:5 outcome=refused reason="auth mismatch"',
			'the agent component is the logger fork’s already',
		);
	});

	it('keeps the components under the agent’s, and others as they are', () => {
		const format = (component: string) =>
			formatAgentLogRecord({ ...parseAgentLogLine(line({ message: 'closed' }))!, component });
		assert.equal(format('agent: session#3'), 'session#3: closed');
		assert.equal(format('agents'), 'agents: closed');
		assert.equal(format(''), 'closed');
	});
});
