import { BerthError } from '../../protocol/errors';
import { bracketHost, formatHostPort } from '../../protocol/host-port';

/** A local forward: listen on bind:localPort here, connect to host:port from the agent's side. */
export interface LocalForwardSpec {
	readonly bind: string;
	/** 0 lets the system pick. */
	readonly localPort: number;
	readonly host: string;
	readonly port: number;
}

/** Where local listeners bind when the spec names no address: loopback only, as ssh does. */
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';

/**
 * Parses ssh's -L grammar:
 *
 *     spec                         bind         local  host        port
 *     8080:localhost:80            127.0.0.1    8080   localhost   80
 *     0.0.0.0:8080:db:5432         0.0.0.0      8080   db          5432
 *     *:8080:db:5432               0.0.0.0      8080   db          5432    ('*' = every interface)
 *     [::1]:8080:[::1]:5432        ::1          8080   ::1         5432    (IPv6 in brackets)
 *     localhost:0:web:80           localhost    (any)  web         80
 */
export function parseLocalForwardSpec(text: string): LocalForwardSpec {
	const parts = splitSpec(text);
	const usage = `use [BIND:]LOCALPORT:HOST:PORT, for example 8080:localhost:80`;
	if (!parts || (parts.length !== 3 && parts.length !== 4)) {
		throw new BerthError('BERTH_ERR_USAGE', `cannot read the forward ${JSON.stringify(text)}: ${usage}`);
	}
	const [bindPart, localPart, host, portPart] = parts.length === 4 ? parts : [undefined, ...parts];
	const bind =
		bindPart === undefined || bindPart === ''
			? DEFAULT_BIND_ADDRESS
			: bindPart === '*'
				? '0.0.0.0'
				: bindPart;
	const localPort = parsePort(localPart!, true, text);
	const port = parsePort(portPart!, false, text);
	if (!host) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`the forward ${JSON.stringify(text)} has no target host: ${usage}`,
		);
	}
	return { bind, localPort, host, port };
}

/** A dynamic forward (-D): a SOCKS5 + HTTP proxy listening on bind:port. */
export interface DynamicForwardSpec {
	readonly bind: string;
	/** 0 lets the system pick. */
	readonly port: number;
}

/**
 * Parses ssh's -D grammar, `[BIND:]PORT`: `1080`, `0.0.0.0:1080`, `*:1080`, `[::1]:1080`.
 */
export function parseDynamicForwardSpec(text: string): DynamicForwardSpec {
	const parts = splitSpec(text);
	if (!parts || parts.length > 2 || parts.some((part, i) => part === '' && i === parts.length - 1)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`cannot read the proxy ${JSON.stringify(text)}: use [BIND:]PORT, for example 1080 or 127.0.0.1:1080`,
		);
	}
	const [bindPart, portPart] = parts.length === 2 ? parts : [undefined, parts[0]!];
	const bind =
		bindPart === undefined || bindPart === ''
			? DEFAULT_BIND_ADDRESS
			: bindPart === '*'
				? '0.0.0.0'
				: bindPart;
	return { bind, port: parsePort(portPart!, true, text) };
}

/** Splits on ':' outside brackets, dropping the brackets; undefined if brackets do not balance. */
function splitSpec(text: string): string[] | undefined {
	const parts: string[] = [];
	let current = '';
	let inBrackets = false;
	for (const ch of text) {
		if (ch === '[' && !inBrackets && current === '') {
			inBrackets = true;
		} else if (ch === ']' && inBrackets) {
			inBrackets = false;
		} else if (ch === ':' && !inBrackets) {
			parts.push(current);
			current = '';
		} else {
			current += ch;
		}
	}
	if (inBrackets) {
		return undefined;
	}
	parts.push(current);
	return parts;
}

function parsePort(text: string, allowZero: boolean, spec: string): number {
	const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
	if (!Number.isInteger(port) || port > 65535 || port < (allowZero ? 0 : 1)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${JSON.stringify(text)} in the forward ${JSON.stringify(spec)} is not a port (${allowZero ? 0 : 1}-65535)`,
		);
	}
	return port;
}

/** The spec as ssh would write it. */
export function formatLocalForwardSpec(spec: LocalForwardSpec): string {
	return `${bracketHost(spec.bind)}:${spec.localPort}:${formatHostPort(spec.host, spec.port)}`;
}
