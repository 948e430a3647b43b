/**
 * What Connect with Init URL... makes of the text pasted into its box: the agent, the token and
 * what the URL pins, or a sentence that names the wrong part (protocol/init-url.ts finds it).
 * Pure, so every sentence is in a unit table test. The text holds a token: no sentence repeats it.
 */

import { isClientToken } from '../../protocol/client-token';
import { parseInitUrl } from '../../protocol/init-url';
import { parseAgentUrl } from '../../server/client/index';

/** The shape of an init URL, for the input's placeholder and the empty box's hint. */
export const INIT_URL_SHAPE = 'https://HOST:PORT/p/eyJ0Ijoi…';

/** A usable init URL: the agent (its id is its URL) and the login it gives. */
export interface InitUrlLogin {
	readonly ok: true;
	/** The agent's URL without secrets (`wss://agent.example:8765`), as agentIdForUrl gives it. */
	readonly agentId: string;
	/** Never logged. */
	readonly token: string;
	readonly agentKey?: string;
	readonly sessionPrefix: string;
}

export type InitUrlInput = InitUrlLogin | { readonly ok: false; readonly message: string };

/** Reads the pasted text (spaces around it ignored). */
export function readInitUrlInput(text: string): InitUrlInput {
	const trimmed = text.trim();
	if (trimmed === '') {
		return refuse(`Paste the init URL the agent's owner gave you (${INIT_URL_SHAPE}).`);
	}
	if (isClientToken(trimmed)) {
		return refuse(
			'This is a token, not an init URL: paste the whole init URL (it names the agent too), ' +
				"or use Connect to Agent... with the agent's address and this token.",
		);
	}
	const parsed = parseInitUrl(trimmed);
	if (!parsed.ok) {
		return refuse(`${sentence(parsed.message)}.`);
	}
	let agentId: string;
	try {
		agentId = parseAgentUrl(parsed.value.agentUrl).display;
	} catch {
		return refuse("The init URL's host and port do not make an agent address: copy it again, whole.");
	}
	return {
		ok: true,
		agentId,
		token: parsed.value.token,
		sessionPrefix: parsed.value.sessionPrefix,
		...(parsed.value.agentKey !== undefined ? { agentKey: parsed.value.agentKey } : {}),
	};
}

/** The validation message for the input box: undefined when the text is usable. */
export function validateInitUrlInput(text: string): string | undefined {
	const input = readInitUrlInput(text);
	return input.ok ? undefined : input.message;
}

function refuse(message: string): InitUrlInput {
	return { ok: false, message };
}

/** A parser's clause as a sentence: its first letter capitalised. */
function sentence(clause: string): string {
	return clause.charAt(0).toUpperCase() + clause.slice(1);
}
