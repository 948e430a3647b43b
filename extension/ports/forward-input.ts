import { formatHostPort } from '../../protocol/host-port';

/**
 * What "Forward a Port" accepts, as VS Code's Ports view does, plus a local port in front as
 * ssh's `-L` writes it:
 *
 *     input              local port   host         port
 *     3000               (same)       localhost    3000
 *     db:5432            (same)       db           5432
 *     127.0.0.1:8080     (same)       127.0.0.1    8080
 *     [::1]:8080         (same)       ::1          8080    (Berth also takes bracketed IPv6)
 *     8080:3000          8080         localhost    3000
 *     8080:db:5432       8080         db           5432
 *     8080:[::1]:3000    8080         ::1          3000
 *
 * The host is as the agent sees it. Pure, for the input box's live validation.
 */

/** A port to forward, read from the user's input. */
export interface ForwardTarget {
	readonly host: string;
	readonly port: number;
}

/** A forward the user asked for: the target, and the local port when they gave one. */
export interface ForwardInput extends ForwardTarget {
	readonly localPort?: number;
}

/** Host names and IPv4 addresses: letters, digits, dots, hyphens and underscores. */
const HOST_PATTERN = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;
const USAGE = 'Enter a port (3000), host:port (db:5432), or a local port first (8080:3000, 8080:db:5432)';
const TARGET_USAGE = 'Enter a port (3000) or host:port (db:5432)';

/** The forward, or a message that says what to type instead. */
export function parseForwardInput(text: string): ForwardInput | string {
	const input = text.trim();
	if (input === '') {
		return USAGE;
	}
	// A host is never all digits: `8080:3000` and `8080:db:5432` start with a local port.
	const withLocal = /^(\d+):(.+)$/.exec(input);
	if (withLocal) {
		const localPort = checkPort(withLocal[1]!, USAGE);
		const target = parseTarget(withLocal[2]!, USAGE) ?? notUnderstood(input, USAGE);
		if (typeof localPort === 'string') {
			return localPort;
		}
		return typeof target === 'string' ? target : { localPort, ...target };
	}
	return parseTarget(input, USAGE) ?? notUnderstood(input, USAGE);
}

/** A target alone (`3000`, `db:5432`, `[::1]:80`): either end of a reverse forward. */
export function parseTargetInput(text: string): ForwardTarget | string {
	const input = text.trim();
	if (input === '') {
		return TARGET_USAGE;
	}
	return parseTarget(input, TARGET_USAGE) ?? notUnderstood(input, TARGET_USAGE);
}

/** A local port typed alone (Change Local Address Port). */
export function parsePortInput(text: string): number | string {
	const input = text.trim();
	const usage = 'Enter a port number (1-65535)';
	return /^\d+$/.test(input) ? checkPort(input, usage) : usage;
}

/** The target, a message about its port, or undefined when it has no target's shape at all. */
function parseTarget(input: string, usage: string): ForwardTarget | string | undefined {
	if (/^\d+$/.test(input)) {
		const port = checkPort(input, usage);
		return typeof port === 'string' ? port : { host: 'localhost', port };
	}
	const hostPort = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(input) ?? /^([^:[\]]+):(\d+)$/.exec(input);
	const isName = (host: string): boolean => HOST_PATTERN.test(host) && !/^\d+$/.test(host);
	if (!hostPort || (!hostPort[0].startsWith('[') && !isName(hostPort[1]!))) {
		return undefined;
	}
	const port = checkPort(hostPort[2]!, usage);
	return typeof port === 'string' ? port : { host: hostPort[1]!, port };
}

function notUnderstood(input: string, usage: string): string {
	return `${JSON.stringify(input)} is not a port or host:port. ${usage}`;
}

function checkPort(text: string, usage: string): number | string {
	const port = Number(text);
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		return `${text} is not a port (1-65535). ${usage}`;
	}
	return port;
}

export { formatHostPort };

/** The host to reach, from the agent, a port detected listening on `host` (all interfaces → loopback). */
export function connectHostFor(host: string): string {
	if (host === '0.0.0.0' || host === '0:0:0:0:0:0:0:0') {
		return '127.0.0.1';
	}
	return host === '::' ? '::1' : host;
}

/** Names of the agent's own loopback: one target however it is spelled. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

/** True when two targets reach the same port of the agent's host (`localhost:3000` = `127.0.0.1:3000`). */
export function isSameTarget(a: ForwardTarget, b: ForwardTarget): boolean {
	if (a.port !== b.port) {
		return false;
	}
	const x = a.host.toLowerCase();
	const y = b.host.toLowerCase();
	return x === y || (LOOPBACK_NAMES.has(x) && LOOPBACK_NAMES.has(y));
}
