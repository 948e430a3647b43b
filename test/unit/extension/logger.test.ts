import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSinkLogger, redactSecrets, type LogLevel } from '../../../extension/logger';

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
