import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAGE_LINES, keepFocus, moveFocus } from '../../../webview/roving';

describe('moveFocus', () => {
	const order = ['a', 'b', 'c', 'd'];

	it('steps, jumps to the ends and stops at them', () => {
		assert.equal(moveFocus(order, 'b', 'ArrowDown'), 'c');
		assert.equal(moveFocus(order, 'b', 'ArrowUp'), 'a');
		assert.equal(moveFocus(order, 'a', 'ArrowUp'), 'a');
		assert.equal(moveFocus(order, 'd', 'ArrowDown'), 'd');
		assert.equal(moveFocus(order, 'b', 'Home'), 'a');
		assert.equal(moveFocus(order, 'b', 'End'), 'd');
	});

	it('pages by PAGE_LINES, within the list', () => {
		const long = Array.from({ length: PAGE_LINES * 2 + 1 }, (_, i) => `k${i}`);
		assert.equal(moveFocus(long, 'k0', 'PageDown'), `k${PAGE_LINES}`);
		assert.equal(moveFocus(long, `k${PAGE_LINES * 2}`, 'PageDown'), `k${PAGE_LINES * 2}`);
		assert.equal(moveFocus(long, 'k3', 'PageUp'), 'k0');
	});

	it('starts at the first line when no line had the focus', () => {
		assert.equal(moveFocus(order, undefined, 'ArrowDown'), 'a');
		assert.equal(moveFocus(order, 'gone', 'ArrowUp'), 'a');
		assert.equal(moveFocus([], 'a', 'End'), undefined);
	});
});

describe('keepFocus', () => {
	it('keeps the focused line while it is there, wherever it moved', () => {
		assert.equal(keepFocus(['a', 'b', 'c'], ['x', 'c', 'a', 'b'], 'b'), 'b');
	});

	it('moves to the next surviving line when the focused one is removed, else the previous', () => {
		assert.equal(keepFocus(['a', 'b', 'c', 'd'], ['a', 'd'], 'b'), 'd');
		assert.equal(keepFocus(['a', 'b', 'c'], ['a', 'x'], 'c'), 'a');
	});

	it('falls back to the first line', () => {
		assert.equal(keepFocus(['a'], ['x', 'y'], 'a'), 'x');
		assert.equal(keepFocus([], ['x'], undefined), 'x');
		assert.equal(keepFocus(['a'], [], 'a'), undefined);
	});
});
