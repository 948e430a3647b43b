import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRepeatSummary, LogCoalescer } from '../../../protocol/log-coalescer';
import { ensureNoLeaks } from '../../helpers/leaks';

describe('LogCoalescer', () => {
	const leaks = ensureNoLeaks();

	function setup(maxKeys?: number) {
		const timers = leaks.timers();
		const written: string[] = [];
		const coalescer = new LogCoalescer<string>({
			timers,
			windowMs: 10_000,
			...(maxKeys !== undefined ? { maxKeys } : {}),
			write: (line) => written.push(line),
			summarize: (line, count, windowMs) => `${line} (${formatRepeatSummary(count, windowMs)})`,
		});
		return { timers, written, coalescer };
	}

	it('writes a line once, counts its repeats within the window, and summarises them when it ends', () => {
		const { timers, written, coalescer } = setup();
		for (let i = 0; i < 1_205; i++) {
			coalescer.offer('k', 'the session closed');
		}
		assert.deepEqual(written, ['the session closed']);
		timers.advance(9_999);
		assert.equal(written.length, 1, 'nothing more before the window ends');
		timers.advance(1);
		assert.deepEqual(written, ['the session closed', 'the session closed (… 1,204 more in 10 s)']);
		coalescer.offer('k', 'the session closed');
		assert.equal(written.length, 3, 'after the summary, the next one opens a new window');
		coalescer.dispose();
	});

	it('keeps lines with different keys apart, and writes a line again once its quiet window is over', () => {
		const { timers, written, coalescer } = setup();
		coalescer.offer('a', 'A');
		coalescer.offer('b', 'B');
		timers.advance(10_000);
		coalescer.offer('a', 'A');
		assert.deepEqual(written, ['A', 'B', 'A'], 'no summary for a line that did not repeat');
		coalescer.dispose();
	});

	it('writes pending summaries on flush, and leaves no timer behind', () => {
		const { written, coalescer } = setup();
		coalescer.offer('a', 'A');
		coalescer.offer('a', 'A');
		coalescer.flush();
		assert.deepEqual(written, ['A', 'A (… 1 more in 10 s)']);
		coalescer.dispose();
	});

	it('passes lines through uncounted once it tracks maxKeys distinct ones', () => {
		const { written, coalescer } = setup(2);
		coalescer.offer('a', 'A');
		coalescer.offer('b', 'B');
		coalescer.offer('c', 'C');
		coalescer.offer('c', 'C');
		assert.deepEqual(written, ['A', 'B', 'C', 'C'], 'c is not tracked: both written');
		coalescer.offer('a', 'A');
		assert.equal(written.length, 4, 'a is still tracked and counted');
		coalescer.dispose();
		assert.equal(written.at(-1), 'A (… 1 more in 10 s)');
	});

	it('formats counts with thousands separators', () => {
		assert.equal(formatRepeatSummary(1, 10_000), '… 1 more in 10 s');
		assert.equal(formatRepeatSummary(1_234_567, 60_000), '… 1,234,567 more in 60 s');
	});
});
