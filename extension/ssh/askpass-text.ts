/**
 * How an ssh prompt is shown in VS Code (pure: askpass-prompt.ts shows it). ssh's prompts are
 * lines meant for a terminal; a keyboard-interactive prompt is written by the server, so the text
 * is cleaned of control characters and bounded before it is shown.
 */

import type { AskpassMode } from '../../protocol/askpass';

/** What to show: an input box (`secret`: no echo), a yes/no question, or a note. */
export interface AskpassView {
	readonly kind: 'secret' | 'text' | 'confirm' | 'notify';
	readonly title: string;
	/** The prompt on one line. */
	readonly prompt: string;
	readonly placeholder?: string;
}

/** The most characters of a prompt shown. */
const MAX_SHOWN_PROMPT_CHARS = 1000;

/** ssh's question on an unknown host key (its last line; the fingerprint comes before it). */
const HOST_KEY_QUESTION = /continue connecting \(yes\/no/i;
/** Prompts for a secret: passphrases, passwords, PINs, one-time codes. */
const SECRET_PROMPT = /pass(phrase|word|code)|\bPIN\b|verification code|one-time|OTP/i;

/** The view of ssh's `prompt` in `mode`, for the connection to `host`. */
export function describeAskpassPrompt(prompt: string, mode: AskpassMode, host: string): AskpassView {
	const text = oneLine(prompt);
	const title = `ssh: ${oneLine(host)}`;
	if (mode === 'confirm' || mode === 'notify') {
		return { kind: mode, title, prompt: text };
	}
	if (HOST_KEY_QUESTION.test(text)) {
		return {
			kind: 'text',
			title: `${title}: unknown host key`,
			prompt: text,
			placeholder: 'yes to trust this key and go on; no to stop',
		};
	}
	return { kind: SECRET_PROMPT.test(text) ? 'secret' : 'text', title, prompt: text };
}

/** A terminal's escape sequence (colours, cursor moves): removed whole, not just its ESC. */
// eslint-disable-next-line no-control-regex -- the point is to find the escape character
const ESCAPE_SEQUENCE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The text on one line: control characters (escapes included) out, whitespace runs as one space. */
export function oneLine(text: string): string {
	const clean = text
		.replace(ESCAPE_SEQUENCE, '')
		.replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ')
		.trim();
	return clean.length > MAX_SHOWN_PROMPT_CHARS ? clean.slice(0, MAX_SHOWN_PROMPT_CHARS - 1) + '…' : clean;
}
