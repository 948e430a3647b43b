/**
 * The dialogue between the extension and its ssh askpass helper (dist/askpass.js, which ssh runs
 * as SSH_ASKPASS when it needs to ask the user something: a host key, a passphrase). The helper
 * connects to a unix socket the extension serves in a folder only this user can open, sends one
 * request line, reads one reply line, and prints the answer for ssh:
 *
 *   helper → extension   {"type":"ask","ticket":"…","prompt":"Enter passphrase for key …: ","mode":"input"}\n
 *   extension → helper   {"type":"answer","value":"…"}\n   or   {"type":"cancel"}\n
 *
 * The ticket (BERTH_ASKPASS_TICKET in ssh's environment) names the ssh connection that asks, so
 * the question says which host it is about, and a process that holds no live ticket is refused.
 */

import { isObject, isString } from './guards';

/** The longest line either side sends (bytes; a prompt of 4,096 characters of 4-byte UTF-8 fits). */
export const MAX_ASKPASS_LINE_BYTES = 20 * 1024;
/** The longest prompt shown (characters): ssh's own are a few lines long. */
export const MAX_ASKPASS_PROMPT_CHARS = 4096;
/** The longest answer sent back (characters). */
export const MAX_ASKPASS_ANSWER_CHARS = 4096;

/** Environment variables of the helper, set by the extension on each ssh it starts. */
export const ASKPASS_ENV = {
	socket: 'BERTH_ASKPASS_SOCKET',
	ticket: 'BERTH_ASKPASS_TICKET',
	node: 'BERTH_ASKPASS_NODE',
	main: 'BERTH_ASKPASS_MAIN',
} as const;

/**
 * What ssh wants (its SSH_ASKPASS_PROMPT): `input`, text to type (the default); `confirm`, a yes
 * or no given by the helper's exit status; `notify`, something to show that needs no answer (ssh
 * ends the helper when it is done with it).
 */
export type AskpassMode = 'input' | 'confirm' | 'notify';

/** The helper's question. */
export interface AskpassRequest {
	readonly type: 'ask';
	readonly ticket: string;
	/** ssh's prompt, as ssh wrote it (it may hold newlines; from the server for keyboard-interactive). */
	readonly prompt: string;
	readonly mode: AskpassMode;
}

/** The extension's reply: the answer (for `confirm` and `notify`: empty), or cancelled. */
export type AskpassReply = { readonly type: 'answer'; readonly value: string } | { readonly type: 'cancel' };

/** A ticket: 16 to 128 base64url characters. */
const TICKET_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The mode for ssh's SSH_ASKPASS_PROMPT value (unset or unknown: `input`). */
export function askpassModeOf(value: string | undefined): AskpassMode {
	switch (value) {
		case 'confirm':
			return 'confirm';
		case 'none':
			return 'notify';
		default:
			return 'input';
	}
}

/** One line for the wire (JSON and a newline). */
export function formatAskpassMessage(message: AskpassRequest | AskpassReply): string {
	return JSON.stringify(message) + '\n';
}

/** The helper's request line, checked; undefined when it is not one. */
export function parseAskpassRequest(line: string): AskpassRequest | undefined {
	const value = parseLine(line);
	if (
		!isObject(value) ||
		value['type'] !== 'ask' ||
		!isString(value['ticket']) ||
		!TICKET_PATTERN.test(value['ticket']) ||
		!isString(value['prompt']) ||
		value['prompt'].length > MAX_ASKPASS_PROMPT_CHARS ||
		(value['mode'] !== 'input' && value['mode'] !== 'confirm' && value['mode'] !== 'notify')
	) {
		return undefined;
	}
	return { type: 'ask', ticket: value['ticket'], prompt: value['prompt'], mode: value['mode'] };
}

/**
 * The extension's reply line, checked; undefined when it is not one. An answer ssh could not
 * read as one line (a newline, a carriage return or a NUL in it) is not one.
 */
export function parseAskpassReply(line: string): AskpassReply | undefined {
	const value = parseLine(line);
	if (!isObject(value)) {
		return undefined;
	}
	if (value['type'] === 'cancel') {
		return { type: 'cancel' };
	}
	const answer = value['value'];
	if (value['type'] !== 'answer' || !isString(answer) || !isAskpassAnswer(answer)) {
		return undefined;
	}
	return { type: 'answer', value: answer };
}

/** Whether ssh can take `text` as an answer: one line, no NUL, at most MAX_ASKPASS_ANSWER_CHARS. */
export function isAskpassAnswer(text: string): boolean {
	return text.length <= MAX_ASKPASS_ANSWER_CHARS && !/[\r\n\0]/.test(text);
}

/** Whether `text` may be a ticket. */
export function isAskpassTicket(text: string): boolean {
	return TICKET_PATTERN.test(text);
}

function parseLine(line: string): unknown {
	if (line.length > MAX_ASKPASS_LINE_BYTES) {
		return undefined;
	}
	try {
		return JSON.parse(line);
	} catch {
		return undefined;
	}
}
