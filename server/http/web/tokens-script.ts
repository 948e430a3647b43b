/**
 * The token page's only script, served as /tokens.js (the CSP allows scripts from the agent only,
 * never inline). It makes the Copy buttons work; without it they stay hidden and every value is
 * still there to select and copy by hand, and every form still works.
 */
export const TOKENS_SCRIPT_PATH = '/tokens.js';

/** How long a Copy button says "Copied" before it reads "Copy" again (ms, in the browser). */
const COPIED_LABEL_MS = 2_000;

export const TOKENS_SCRIPT = `'use strict';
(function () {
	async function copy(field) {
		try {
			await navigator.clipboard.writeText(field.value);
			return true;
		} catch (_) {
			// Without a secure context (plain http:// off loopback) there is no clipboard API.
			field.focus();
			field.select();
			return document.execCommand('copy');
		}
	}
	for (const button of document.querySelectorAll('button[data-copy]')) {
		const field = document.getElementById(button.getAttribute('data-copy'));
		if (!field) {
			continue;
		}
		button.hidden = false;
		button.addEventListener('click', async function () {
			const done = await copy(field);
			button.textContent = done ? 'Copied' : 'Press Ctrl+C';
			setTimeout(function () {
				button.textContent = 'Copy';
			}, ${COPIED_LABEL_MS});
		});
	}
})();
`;
