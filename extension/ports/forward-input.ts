import { formatHostPort } from '../../protocol/host-port';

/**
 * What "Forward a Port" accepts, as VS Code's Ports view does:
 *
 *     input              host         port
 *     3000               localhost    3000
 *     db:5432            db           5432
 *     127.0.0.1:8080     127.0.0.1    8080
 *     [::1]:8080         ::1          8080    (Berth also takes bracketed IPv6)
 *
 * The host is as the agent sees it. Pure, for the input box's live validation.
 */

/** A port to forward, read from the user's input. */
export interface ForwardTarget {
	readonly host: string;
	readonly port: number;
}

/** Host names and IPv4 addresses: letters, digits, dots, hyphens and underscores. */
const HOST_PATTERN = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;

/** The target, or a message that says what to type instead. */
export function parseForwardInput(text: string): ForwardTarget | string {
	const input = text.trim();
	const usage = 'Enter a port number (3000) or host:port (db:5432)';
	if (input === '') {
		return usage;
	}
	if (/^\d+$/.test(input)) {
		return checkPort(input, 'localhost', usage);
	}
	const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(input);
	if (bracketed) {
		return checkPort(bracketed[2]!, bracketed[1]!, usage);
	}
	const hostPort = /^([^:]+):(\d+)$/.exec(input);
	if (hostPort && HOST_PATTERN.test(hostPort[1]!)) {
		return checkPort(hostPort[2]!, hostPort[1]!, usage);
	}
	return `${JSON.stringify(input)} is not a port or host:port. ${usage}`;
}

function checkPort(text: string, host: string, usage: string): ForwardTarget | string {
	const port = Number(text);
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		return `${text} is not a port (1-65535). ${usage}`;
	}
	return { host, port };
}

export { formatHostPort };

/** The host to reach, from the agent, a port detected listening on `host` (all interfaces → loopback). */
export function connectHostFor(host: string): string {
	if (host === '0.0.0.0' || host === '0:0:0:0:0:0:0:0') {
		return '127.0.0.1';
	}
	return host === '::' ? '::1' : host;
}
