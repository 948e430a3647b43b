import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisposableStore, Emitter, once, toDisposable } from '../../../protocol/lifecycle';
import { ensureNoLeaks } from '../../helpers/leaks';

describe('Emitter', () => {
	const leaks = ensureNoLeaks();

	it('calls a listener added while firing from the next fire on', () => {
		const emitter = leaks.track(new Emitter<number>());
		const seen: string[] = [];
		emitter.event((n) => {
			seen.push(`first ${n}`);
			if (n === 1) {
				emitter.event((m) => seen.push(`late ${m}`));
			}
		});
		emitter.fire(1);
		emitter.fire(2);
		assert.deepEqual(seen, ['first 1', 'first 2', 'late 2']);
		emitter.dispose();
	});

	it('still calls, in this fire, a listener removed by an earlier one; not in the next', () => {
		const emitter = leaks.track(new Emitter<number>());
		const seen: string[] = [];
		emitter.event(() => {
			seen.push('a');
			second.dispose();
		});
		const second = emitter.event((n) => seen.push(`b${n}`));
		emitter.fire(1);
		emitter.fire(2);
		assert.deepEqual(seen, ['a', 'b1', 'a']);
		emitter.dispose();
	});

	it('delivers a fire from inside a listener before the outer fire goes on', () => {
		const emitter = leaks.track(new Emitter<number>());
		const seen: string[] = [];
		emitter.event((n) => {
			seen.push(`a${n}`);
			if (n === 1) {
				emitter.fire(2);
			}
		});
		emitter.event((n) => seen.push(`b${n}`));
		emitter.fire(1);
		assert.deepEqual(seen, ['a1', 'a2', 'b2', 'b1']);
		emitter.dispose();
	});

	it('keeps calling the other listeners when one throws, and hands the error to onListenerError', () => {
		const errors: unknown[] = [];
		const emitter = leaks.track(new Emitter<number>((error) => errors.push(error)));
		const seen: number[] = [];
		const bug = new Error('listener bug');
		emitter.event(() => {
			throw bug;
		});
		emitter.event((n) => seen.push(n));
		emitter.fire(7);
		assert.deepEqual(seen, [7]);
		assert.deepEqual(errors, [bug]);
		emitter.dispose();
	});

	it('forgets its listeners when disposed, and ignores new ones', () => {
		const emitter = leaks.track(new Emitter<number>());
		const seen: number[] = [];
		emitter.event((n) => seen.push(n));
		emitter.dispose();
		emitter.event((n) => seen.push(n * 10));
		emitter.fire(1);
		assert.deepEqual(seen, []);
		assert.equal(emitter.hasListeners, false);
	});

	it('once() resolves with the first value and unsubscribes', async () => {
		const emitter = leaks.track(new Emitter<string>());
		const first = once(emitter.event);
		emitter.fire('one');
		emitter.fire('two');
		assert.equal(await first, 'one');
		assert.equal(emitter.hasListeners, false);
		emitter.dispose();
	});
});

describe('DisposableStore', () => {
	const leaks = ensureNoLeaks();

	it('disposes every item in reverse order, once', () => {
		const store = leaks.track(new DisposableStore());
		const order: string[] = [];
		store.add(toDisposable(() => order.push('first')));
		store.add(toDisposable(() => order.push('second')));
		store.dispose();
		store.dispose();
		assert.deepEqual(order, ['second', 'first']);
	});

	it('disposes the rest when items throw, then throws every error at once', () => {
		const store = leaks.track(new DisposableStore());
		const order: string[] = [];
		const one = new Error('one');
		const two = new Error('two');
		store.add(toDisposable(() => order.push('a')));
		store.add({
			dispose: () => {
				throw one;
			},
		});
		store.add(toDisposable(() => order.push('c')));
		store.add({
			dispose: () => {
				throw two;
			},
		});
		assert.throws(
			() => store.dispose(),
			(error: unknown) =>
				error instanceof AggregateError &&
				error.errors.length === 2 &&
				error.errors[0] === two &&
				error.errors[1] === one,
		);
		assert.deepEqual(order, ['c', 'a']);
		assert.equal(store.isDisposed, true);
	});

	it('disposes at once what is added after it was disposed', () => {
		const store = leaks.track(new DisposableStore());
		store.dispose();
		let disposed = false;
		store.add(toDisposable(() => (disposed = true)));
		assert.equal(disposed, true);
	});

	it('forgets a deleted item without disposing it', () => {
		const store = leaks.track(new DisposableStore());
		let disposed = false;
		const item = store.add(toDisposable(() => (disposed = true)));
		store.delete(item);
		store.dispose();
		assert.equal(disposed, false);
	});
});
