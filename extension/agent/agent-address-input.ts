/**
 * What Connect to Agent's first step accepts, in the user's terms: `host`, `host:port` or a URL,
 * with Berth's own port (8765) when none is given, and the token kept out of it.
 *
 *     input                       URL
 *     devbox                      ws://devbox:8765
 *     devbox:9000                 ws://devbox:9000
 *     ws://devbox                 ws://devbox:8765
 *     http://devbox:18123/        http://devbox:18123/     (a VS Code server's address)
 *     wss://proxy.example/berth   wss://proxy.example/berth  (TLS proxies keep their 443)
 *
 * Pure, for the input box's live validation.
 */

/** `berth server`'s default port. */
export const DEFAULT_AGENT_PORT = 8765;

/** Query parameters that carry a token (the status page's `?tkn=`, and the names people try). */
const TOKEN_PARAMETERS = new Set(['tkn', 'token', 'connectiontoken']);
const USAGE = 'Enter host, host:port or ws://host:port';

/** The agent URL to connect to, or a message that says what to type instead. */
export function readAgentAddress(text: string): { readonly url: string } | string {
	const input = text.trim();
	if (input === '') {
		return `${USAGE} (Berth's port is ${DEFAULT_AGENT_PORT} unless the agent was started on another).`;
	}
	const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `ws://${input}`;
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		return `${JSON.stringify(input)} is not an address. ${USAGE}.`;
	}
	if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) {
		return `Berth connects with ws://, wss://, http:// or https://, not ${url.protocol}//.`;
	}
	if (
		url.password ||
		url.username ||
		[...url.searchParams.keys()].some((k) => TOKEN_PARAMETERS.has(k.toLowerCase()))
	) {
		return 'Leave the token out of the address: you enter it in step 3, and VS Code keeps it in its secret storage.';
	}
	if (url.hostname === '') {
		return `${USAGE}.`;
	}
	// An explicit port is kept even when it is the scheme's default (new URL drops `:80`).
	const explicitPort = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/i.exec(withScheme)?.[1];
	if (explicitPort === undefined && (url.protocol === 'ws:' || url.protocol === 'http:')) {
		url.port = String(DEFAULT_AGENT_PORT);
	}
	const host =
		url.port === '' && explicitPort !== undefined ? `${url.host}:${Number(explicitPort)}` : url.host;
	const path = url.pathname === '/' ? '' : url.pathname;
	return { url: `${url.protocol}//${host}${path}` };
}
