import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';

/** Where an agent listens, from a URL the user gave. */
export interface AgentAddress {
	readonly host: string;
	readonly port: number;
	/** TLS (wss:// or https://), e.g. behind a reverse proxy. */
	readonly secure: boolean;
	/** Path prefix for the upgrade request (VS Code ignores it; proxies may route on it). */
	readonly path: string;
	/** For messages: the URL without secrets. */
	readonly display: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'ws:': 80, 'http:': 80, 'wss:': 443, 'https:': 443 };
/** Query parameters that carry a token: VS Code's `tkn`, and the names users try (any letter case). */
const TOKEN_PARAMETERS = new Set(['tkn', 'token', 'connectiontoken']);

/**
 * Parses an agent URL: `ws://`, `wss://`, `http://` or `https://` host, port and optional path.
 * A URL that carries a token (`?tkn=`, `?token=`, `?connectionToken=`, a password) is refused: it
 * would sit in argv and shell history, and the agent would never see it anyway.
 */
export function parseAgentUrl(text: string): AgentAddress {
	let url: URL;
	try {
		url = new URL(text.includes('://') ? text : `ws://${text}`);
	} catch {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`not a valid agent URL: ${JSON.stringify(text)} (expected ws://HOST:PORT)`,
		);
	}
	const defaultPort = DEFAULT_PORTS[url.protocol];
	if (defaultPort === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`unsupported URL scheme ${url.protocol} in the agent URL: use ws://, wss://, http:// or https://`,
		);
	}
	if (url.password || [...url.searchParams.keys()].some((key) => TOKEN_PARAMETERS.has(key.toLowerCase()))) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'the agent URL holds a token: remove it and pass the token with --token-file, BERTH_TOKEN or stdin, ' +
				'so it never appears in the process list',
		);
	}
	const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
	const port = url.port ? Number(url.port) : defaultPort;
	const secure = url.protocol === 'wss:' || url.protocol === 'https:';
	return {
		host,
		port,
		secure,
		path: url.pathname === '' ? '/' : url.pathname,
		display: `${secure ? 'wss' : 'ws'}://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
	};
}

/** The `Host` header value for an address: IPv6 bracketed, port always given. */
export function hostHeader(address: AgentAddress): string {
	return formatHostPort(address.host, address.port);
}

/**
 * Whether two addresses name the same agent (scheme family, host in any letter case, port and
 * path): a saved login's token is sent to the agent it was saved for, never to another.
 */
export function isSameAgent(a: AgentAddress, b: AgentAddress): boolean {
	return (
		a.host.toLowerCase() === b.host.toLowerCase() &&
		a.port === b.port &&
		a.secure === b.secure &&
		a.path === b.path
	);
}
