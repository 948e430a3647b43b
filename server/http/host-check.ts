import { isIP } from 'node:net';

/**
 * Checks VS Code's server does not make at upgrade time (it authenticates inside the protocol
 * only): a browser `Origin` from another site (cross-site WebSocket hijacking) and, on a loopback
 * listener, a `Host` that is not a loopback name (DNS rebinding). Pure functions, table-tested.
 */

/** Whether a listen address or host name is loopback: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
	const name = stripBrackets(host).toLowerCase();
	if (name === 'localhost' || name.endsWith('.localhost')) {
		return true;
	}
	if (isIP(name) === 4) {
		return name.startsWith('127.');
	}
	if (isIP(name) === 6) {
		return name === '::1' || name === '0:0:0:0:0:0:0:1' || name.startsWith('::ffff:127.');
	}
	return false;
}

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]:port`), or undefined if malformed. */
export function hostnameOf(hostHeader: string): string | undefined {
	const value = hostHeader.trim();
	if (value.startsWith('[')) {
		const end = value.indexOf(']');
		if (end < 0) {
			return undefined;
		}
		const rest = value.slice(end + 1);
		if (rest !== '' && !/^:\d{1,5}$/.test(rest)) {
			return undefined;
		}
		return value.slice(1, end);
	}
	const match = /^([^:\s/]+)(?::\d{1,5})?$/.exec(value);
	return match?.[1];
}

/**
 * Whether a request's Host is acceptable. On a loopback listener only loopback names pass: a DNS
 * rebinding page reaches the agent under its own name. A missing Host passes (VS Code's desktop
 * client sends none; browsers always do).
 */
export function isAllowedHost(hostHeader: string | undefined, listenHost: string): boolean {
	if (hostHeader === undefined) {
		return true;
	}
	if (!isLoopbackHost(listenHost)) {
		return true;
	}
	const name = hostnameOf(hostHeader);
	return name !== undefined && isLoopbackHost(name);
}

/**
 * Whether a request's Origin is acceptable: absent (not a browser), or the agent's own origin,
 * `http(s)://` + the request's Host. Anything else, `null` included, is another site.
 */
export function isAllowedOrigin(origin: string | undefined, hostHeader: string | undefined): boolean {
	if (origin === undefined) {
		return true;
	}
	if (hostHeader === undefined) {
		return false;
	}
	let parsed: URL;
	try {
		parsed = new URL(origin);
	} catch {
		return false;
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		return false;
	}
	return parsed.host.toLowerCase() === hostHeader.trim().toLowerCase();
}

function stripBrackets(host: string): string {
	return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
