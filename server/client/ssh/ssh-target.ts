import { BerthError } from '../../../protocol/errors';
import { bracketHost } from '../../../protocol/host-port';

/** A host as the system's ssh reaches it: the destination, and what the command line adds. */
export interface SshTarget {
	/** `[user@]host` as ssh takes it: a Host alias of the ssh config, a name or an address. */
	readonly destination: string;
	/** ssh -p (else the config's Port, else 22). */
	readonly port?: number;
	/** ssh -F: the config file to read instead of ~/.ssh/config. */
	readonly configFile?: string;
}

/** Characters a destination may not hold: ssh would read them as options, or a shell as syntax. */
const BAD_DESTINATION = /[\s\p{Cc}'"`$\\;&|<>()]/u;

/**
 * Parses `[user@]host[:port]`, ssh's destination with an optional port (an IPv6 address in
 * brackets: `[fd00::5]:2222`; a bare IPv6 address has no port). Whatever ssh itself would take
 * as an option (a leading `-`) is refused: the destination goes on ssh's command line.
 * @throws BerthError BERTH_ERR_USAGE saying what is wrong.
 */
export function parseSshTarget(text: string, configFile?: string): SshTarget {
	const usage = 'use [user@]host[:port], e.g. alice@devbox or devbox:2222 (or a Host of your ssh config)';
	const at = text.lastIndexOf('@');
	const user = at >= 0 ? text.slice(0, at + 1) : '';
	let host = text.slice(at + 1);
	let port: number | undefined;
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
	if (bracketed) {
		host = bracketed[1]!;
		port = bracketed[2] !== undefined ? Number(bracketed[2]) : undefined;
	} else if (/^[^:]+:\d+$/.test(host)) {
		port = Number(host.slice(host.indexOf(':') + 1));
		host = host.slice(0, host.indexOf(':'));
	}
	if (host === '' || host.startsWith('-') || user.startsWith('-') || BAD_DESTINATION.test(text)) {
		throw new BerthError('BERTH_ERR_USAGE', `cannot read the host ${JSON.stringify(text)}: ${usage}`);
	}
	if (port !== undefined && !(port >= 1 && port <= 65535)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`the port in ${JSON.stringify(text)} is not 1 to 65535: ${usage}`,
		);
	}
	return {
		destination: user + host,
		...(port !== undefined ? { port } : {}),
		...(configFile !== undefined ? { configFile } : {}),
	};
}

/** The target in words, as the user wrote it: `alice@devbox`, `devbox:2222`, `[fd00::5]:2222`. */
export function formatSshTarget(target: SshTarget): string {
	if (target.port === undefined) {
		return target.destination;
	}
	const at = target.destination.lastIndexOf('@');
	return `${target.destination.slice(0, at + 1)}${bracketHost(target.destination.slice(at + 1))}:${target.port}`;
}

/** ssh's arguments that name the target: `-F FILE`, `-p PORT`, then the destination (always last). */
export function sshTargetArgs(target: SshTarget): string[] {
	return [
		...(target.configFile !== undefined ? ['-F', target.configFile] : []),
		...(target.port !== undefined ? ['-p', String(target.port)] : []),
		target.destination,
	];
}
