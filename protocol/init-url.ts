/**
 * Init URLs: what an agent hands a user so that one command logs a directory in.
 *
 *     https://HOST[:PORT]/p/<base64url(JSON)>          JSON = {"t": TOKEN, "n"?: PREFIX, "k"?: FINGERPRINT}
 *     └──── the agent ────┘   └─ the configuration ─┘
 *
 * - The agent's URL is the init URL's origin: https → wss, http → ws (no path: `/p/…` is the page
 *   the agent serves to show the command to run).
 * - `t`: the token, a signed user token (a JWT: three base64url parts joined by `.`), or a
 *   connection token (an owner saving their own login).
 * - `n`: the session-name prefix (`alice-`: sessions are named `alice-HOSTNAME`), optional.
 * - `k`: the agent key's fingerprint (`SHA256:` + 43 base64url characters), optional; a client
 *   that has it refuses any agent whose key does not match.
 * Unknown members are ignored (a later agent may add some). The text comes from a user's
 * clipboard, so it is bounded and checked before anything in it is used, and every refusal says
 * which part is wrong.
 */

import { decodeBase64url, encodeBase64url } from './base64url';
import { encodeUtf8 } from './bytes';
import { isClientToken } from './client-token';
import { isObject } from './guards';
import { isSessionPrefix, MAX_SESSION_PREFIX_CHARS } from './session-name';

/** Longest init URL read (Berth's bound): a user token's 4 KiB, base64url, with room to spare. */
export const MAX_INIT_URL_CHARS = 8 * 1024;
/** The path before the configuration. */
const INIT_PATH_PREFIX = '/p/';
/** An agent key's fingerprint, as `berth server` prints it. */
const FINGERPRINT = /^SHA256:[A-Za-z0-9_-]{43}$/;

/** What an init URL carries besides the agent. */
export interface InitConfig {
	/** The token (t). Never logged. */
	readonly token: string;
	/** The session-name prefix (n); '' when absent. */
	readonly sessionPrefix: string;
	/** The agent key's fingerprint (k), when the URL pins one. */
	readonly agentKey?: string;
}

/** A parsed init URL. */
export interface InitUrl extends InitConfig {
	/** The agent: `wss://HOST[:PORT]` (or `ws://` for an http:// init URL). */
	readonly agentUrl: string;
}

/** The part of an init URL that is wrong, for callers that point at it. */
export type InitUrlPart = 'length' | 'url' | 'scheme' | 'path' | 'base64url' | 'json' | 't' | 'n' | 'k';

/** Why an init URL was refused: the part, and a sentence that names it and says what to do. */
export interface InitUrlProblem {
	readonly ok: false;
	readonly part: InitUrlPart;
	readonly message: string;
}

type Parsed<T> = { readonly ok: true; readonly value: T } | InitUrlProblem;

export type InitUrlResult = Parsed<InitUrl>;

/** What `berth login --init` was given: an init URL, or a bare token (the agent named otherwise). */
export type InitArgument =
	{ readonly kind: 'url'; readonly value: InitUrl } | { readonly kind: 'token'; readonly token: string };

export type InitArgumentResult = Parsed<InitArgument>;

/**
 * The init URL of an agent at `origin` (`https://host:port`; `wss://` and `ws://` are taken as
 * their https and http) for `config`.
 */
export function formatInitUrl(origin: string, config: InitConfig): string {
	const base = origin.replace(/^wss:/i, 'https:').replace(/^ws:/i, 'http:').replace(/\/+$/, '');
	const json = JSON.stringify({
		t: config.token,
		...(config.sessionPrefix !== '' ? { n: config.sessionPrefix } : {}),
		...(config.agentKey !== undefined ? { k: config.agentKey } : {}),
	});
	return `${base}${INIT_PATH_PREFIX}${encodeBase64url(encodeUtf8(json))}`;
}

/** Parses `berth login --init`'s argument: an http(s) URL is an init URL; anything else must be a token. */
export function parseInitArgument(text: string): InitArgumentResult {
	const trimmed = text.trim();
	if (/^https?:\/\//i.test(trimmed)) {
		const url = parseInitUrl(trimmed);
		return url.ok ? { ok: true, value: { kind: 'url', value: url.value } } : url;
	}
	if (trimmed.length <= MAX_INIT_URL_CHARS && isClientToken(trimmed)) {
		return { ok: true, value: { kind: 'token', token: trimmed } };
	}
	return problem(
		'url',
		'it is neither an init URL (https://HOST/p/...) nor a token (a signed user token has three ' +
			"base64url parts joined by '.')",
	);
}

/** Parses an init URL, checking each part before the next is read. */
export function parseInitUrl(text: string): InitUrlResult {
	if (text.length > MAX_INIT_URL_CHARS) {
		return problem(
			'length',
			`the init URL has ${text.length} characters, more than ${MAX_INIT_URL_CHARS}: copy it again, whole`,
		);
	}
	const url = parseUrl(text);
	if (!url.ok) {
		return url;
	}
	const config = parseConfig(url.value.payload);
	return config.ok ? { ok: true, value: { ...config.value, agentUrl: url.value.agentUrl } } : config;
}

/** The URL's own parts: scheme, no credentials, query or fragment, the path `/p/PAYLOAD`. */
function parseUrl(text: string): Parsed<{ agentUrl: string; payload: string }> {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return problem('url', 'the init URL is not a URL (expected https://HOST[:PORT]/p/...)');
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		return problem('scheme', `the init URL's scheme is ${url.protocol}: an init URL starts with https://`);
	}
	if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
		return problem(
			'url',
			'the init URL has a user name, password, query (?) or fragment (#), which init URLs never have: copy it again',
		);
	}
	const payload = url.pathname.startsWith(INIT_PATH_PREFIX)
		? url.pathname.slice(INIT_PATH_PREFIX.length)
		: undefined;
	// The path is not echoed: it may hold a token.
	if (payload === undefined || payload === '' || payload.includes('/')) {
		return problem(
			'path',
			"the init URL's path is not /p/ and the configuration (one part, no further '/'): copy it again",
		);
	}
	const scheme = url.protocol === 'https:' ? 'wss' : 'ws';
	return { ok: true, value: { agentUrl: `${scheme}://${url.host}`, payload } };
}

/** The configuration after `/p/`: base64url, then UTF-8 JSON, then each member. */
function parseConfig(payload: string): Parsed<InitConfig> {
	const bytes = decodeBase64url(payload);
	if (bytes === undefined) {
		return problem(
			'base64url',
			'the part after /p/ is not base64url (letters, digits, - and _): copy it again',
		);
	}
	let value: unknown;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		return problem('json', 'the part after /p/ does not decode to JSON: this is not an init URL');
	}
	if (!isObject(value)) {
		return problem(
			'json',
			'the part after /p/ decodes to JSON that is not an object: this is not an init URL',
		);
	}
	return parseMembers(value);
}

/** `t`, `n` and `k`, each checked. */
function parseMembers(value: Record<string, unknown>): Parsed<InitConfig> {
	const { t, n, k } = value;
	if (t === undefined) {
		return problem('t', "the init URL's configuration has no t (the token)");
	}
	if (typeof t !== 'string' || !isClientToken(t)) {
		return problem(
			't',
			"the init URL's t is not a token: a signed user token has three base64url parts joined by '.'",
		);
	}
	if (n !== undefined && !isSessionPrefix(n)) {
		return problem(
			'n',
			`the init URL's n (the session-name prefix) must be text of at most ${MAX_SESSION_PREFIX_CHARS} characters, without control characters`,
		);
	}
	if (k !== undefined && !isAgentKeyFingerprint(k)) {
		return problem(
			'k',
			"the init URL's k (the agent key's fingerprint) must be SHA256: and 43 base64url characters",
		);
	}
	return {
		ok: true,
		value: { token: t, sessionPrefix: n ?? '', ...(k !== undefined ? { agentKey: k } : {}) },
	};
}

/** Whether `value` is an agent key's fingerprint as init URLs pin it: `SHA256:` and 43 base64url characters. */
export function isAgentKeyFingerprint(value: unknown): value is string {
	return typeof value === 'string' && FINGERPRINT.test(value);
}

function problem(part: InitUrlPart, message: string): InitUrlProblem {
	return { ok: false, part, message };
}
