import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import {
	attachNegativeValues,
	MAX_DURATION_SECONDS,
	parseFlags,
	parseSecondsFlag,
} from '../../../server/cli/args';

const OPTIONS = {
	port: { type: 'string' },
	L: { type: 'string', multiple: true },
	url: { type: 'string', short: 'u' },
	help: { type: 'boolean', short: 'h' },
} as const;

function usageError(fn: () => unknown): string {
	try {
		fn();
	} catch (error) {
		assert.ok(error instanceof BerthError, String(error));
		assert.equal(error.code, 'BERTH_ERR_USAGE');
		return error.message;
	}
	assert.fail('expected a usage error');
}

describe('attachNegativeValues', () => {
	const rows: [string[], string[]][] = [
		[['--port', '-1'], ['--port=-1']],
		[
			['--port', '-1', '--help'],
			['--port=-1', '--help'],
		],
		[['-L', '-1:h:2'], ['-L-1:h:2']],
		[['-u', '-5'], ['-u-5']],
		[['--url', '-5'], ['--url=-5']],
		[
			['--port', '8080'],
			['--port', '8080'],
		],
		[
			['--port', '--help'],
			['--port', '--help'],
		], // not a number: parseArgs says it is ambiguous
		[
			['--help', '-1'],
			['--help', '-1'],
		], // a boolean takes no value
		[
			['--unknown', '-1'],
			['--unknown', '-1'],
		],
		[['--port=-1'], ['--port=-1']],
		[
			['--', '--port', '-1'],
			['--', '--port', '-1'],
		],
		[
			['-h', '-1'],
			['-h', '-1'],
		],
	];
	for (const [argv, expected] of rows) {
		it(`${argv.join(' ')} → ${expected.join(' ')}`, () =>
			assert.deepEqual(attachNegativeValues(argv, OPTIONS), expected));
	}
});

describe('parseFlags', () => {
	it('hands a negative number to the flag instead of calling it ambiguous', () => {
		assert.deepEqual({ ...parseFlags('server', ['--port', '-1'], OPTIONS) }, { port: '-1' });
		assert.deepEqual(
			{ ...parseFlags('forward', ['-L', '-1:h:2', '-L', '1:h:2'], OPTIONS) },
			{ L: ['-1:h:2', '1:h:2'] },
		);
	});

	it('still turns parseArgs errors into usage errors naming the command', () => {
		assert.match(
			usageError(() => parseFlags('server', ['--nope'], OPTIONS)),
			/^server: .*--nope.*berth server --help/,
		);
	});
});

describe('parseSecondsFlag', () => {
	it('returns the fallback when the flag is absent, and whole seconds otherwise', () => {
		assert.equal(parseSecondsFlag('--t', undefined, 30), 30);
		assert.equal(parseSecondsFlag('--t', '0', 30), 0);
		assert.equal(parseSecondsFlag('--t', String(MAX_DURATION_SECONDS), 30), 2_147_483);
	});

	it('refuses a duration a timer cannot hold, naming the maximum', () => {
		assert.equal(MAX_DURATION_SECONDS * 1000 <= 2 ** 31 - 1, true);
		assert.equal((MAX_DURATION_SECONDS + 1) * 1000 > 2 ** 31 - 1, true);
		for (const value of ['2147484', '99999999999', '9007199254740993']) {
			assert.match(
				usageError(() => parseSecondsFlag('--reconnection-grace-time', value, 10_800)),
				/^--reconnection-grace-time "?\d+"? is (over the maximum of 2147483 seconds|not a whole number of seconds: use 0 to 2147483)/,
			);
		}
	});

	it('refuses what is not a whole number of seconds, or under the minimum, saying the range', () => {
		for (const value of ['-5', '1.5', '1e3', '', ' 1', 'ten']) {
			assert.match(
				usageError(() => parseSecondsFlag('--t', value, 30)),
				/^--t ".*" is not a whole number of seconds: use 0 to 2147483 \(default 30\)$/,
			);
		}
		assert.match(
			usageError(() => parseSecondsFlag('--t', '0', 30, 1)),
			/use 1 to 2147483/,
		);
	});
});
