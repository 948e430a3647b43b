import { CONNECTION_TOKEN_PATTERN } from './constants';
import { isBoolean, isInteger, isObject, isPort, isString } from './guards';

/**
 * The dialogue of `berth ssh` with the host, over one ssh session's standard input and output.
 * Every message is one line of JSON. The host's lines start with `berth-ssh ` (SSH_HOST_LINE_PREFIX),
 * so that whatever a login script prints on stdout is told apart and skipped; the client's lines
 * are bare.
 *
 *     client                                     host
 *     POSIX sh script (finds node)        ->
 *                                         <-     no-node                        (and nothing more)
 *                                         <-     hello {node, sha256|null}       (node runs the bootstrap)
 *     upload {size, sha256} + size bytes  ->                                    (when sha256 is not the build's)
 *     (or) run                            ->
 *                                         <-     installed                       (after an upload)
 *     ensure {token} | stop               ->                                    (read by `berth ssh-host`)
 *                                         <-     agent {port, pid, reused, token?} | stopped {pid?} | error
 *                                         <-     exit {status}                   (the host's side is done)
 *
 * The client writes nothing after the script until `hello`: the shell reads its script from the
 * same pipe, and a byte sent early could be read as part of it. The token travels only in
 * `ensure` (client to host) and, when the host's running agent holds another, in `agent` (host to
 * client): never in a command line.
 */

/** Starts every line the host's side prints for the client. */
export const SSH_HOST_LINE_PREFIX = 'berth-ssh ';
/** The longest line read from the host (a token is at most a few hundred bytes). */
export const MAX_SSH_HOST_LINE_BYTES = 16 * 1024;

/** The oldest Node.js major version the agent runs on. */
export const MIN_NODE_MAJOR = 20;

/** Why the host has no Node.js the agent can run on. */
export type NoNodeReason = 'missing' | 'not-executable' | 'too-old';

/** What the host says, one line each. */
export type FromSshHost =
	/** No usable node: not on PATH, the --node path is not executable, or older than MIN_NODE_MAJOR. */
	| { readonly type: 'no-node'; readonly reason: NoNodeReason; readonly version?: string }
	/** Node runs the bootstrap: its version, and the installed agent's SHA-256 (null: none). */
	| { readonly type: 'hello'; readonly node: string; readonly sha256: string | null }
	/** The upload arrived whole and is in place. */
	| { readonly type: 'installed' }
	/** The build's agent runs: where, and (only when it is not the one the client sent) its token. */
	| {
			readonly type: 'agent';
			readonly port: number;
			readonly pid: number;
			readonly reused: boolean;
			readonly token?: string;
	  }
	/** `stop` is done: the agent that was stopped, if one ran. */
	| { readonly type: 'stopped'; readonly pid?: number }
	/** The host's side failed: what, in words. */
	| { readonly type: 'error'; readonly message: string }
	/** The host's side ended with this status (printed by the shell script, always last). */
	| { readonly type: 'exit'; readonly status: number };

/** What the client asks of `berth ssh-host`. */
export type ToSshHost = { readonly type: 'ensure'; readonly token: string } | { readonly type: 'stop' };

/** A SHA-256 digest in hex, as the host reports it. */
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** The longest message text kept from the host. */
const MAX_MESSAGE_CHARS = 2000;

/**
 * The host's message on `line`, or undefined for a line that is not one (a login script's output,
 * a malformed or unknown message): the caller skips it.
 */
export function parseSshHostLine(line: string): FromSshHost | undefined {
	if (!line.startsWith(SSH_HOST_LINE_PREFIX) || line.length > MAX_SSH_HOST_LINE_BYTES) {
		return undefined;
	}
	let value: unknown;
	try {
		value = JSON.parse(line.slice(SSH_HOST_LINE_PREFIX.length));
	} catch {
		return undefined;
	}
	return isObject(value) ? fromHost(value) : undefined;
}

function fromHost(value: Record<string, unknown>): FromSshHost | undefined {
	switch (value['type']) {
		case 'no-node': {
			const reason = value['reason'];
			const version = value['version'];
			if (reason !== 'missing' && reason !== 'not-executable' && reason !== 'too-old') {
				return undefined;
			}
			return isString(version)
				? { type: 'no-node', reason, version: version.slice(0, 64) }
				: { type: 'no-node', reason };
		}
		case 'hello': {
			const sha256 = value['sha256'];
			const node = value['node'];
			return isString(node) && (sha256 === null || (isString(sha256) && SHA256_HEX.test(sha256)))
				? { type: 'hello', node: node.slice(0, 64), sha256 }
				: undefined;
		}
		case 'installed':
			return { type: 'installed' };
		case 'agent':
			return agentMessage(value);
		case 'stopped':
			return value['pid'] === undefined
				? { type: 'stopped' }
				: isInteger(value['pid'], 1)
					? { type: 'stopped', pid: value['pid'] }
					: undefined;
		case 'error':
			return isString(value['message'])
				? { type: 'error', message: value['message'].slice(0, MAX_MESSAGE_CHARS) }
				: undefined;
		case 'exit':
			return isInteger(value['status'], 0, 255) ? { type: 'exit', status: value['status'] } : undefined;
		default:
			return undefined;
	}
}

function agentMessage(value: Record<string, unknown>): FromSshHost | undefined {
	const { port, pid, reused, token } = value;
	if (!isPort(port) || !isInteger(pid, 1) || !isBoolean(reused)) {
		return undefined;
	}
	if (token === undefined) {
		return { type: 'agent', port, pid, reused };
	}
	return isSshAgentToken(token) ? { type: 'agent', port, pid, reused, token } : undefined;
}

/** The line the host prints for `message`. */
export function formatSshHostLine(message: FromSshHost): string {
	return SSH_HOST_LINE_PREFIX + JSON.stringify(message);
}

/** The client's request on `line`, or undefined when it is not one. */
export function parseToSshHost(line: string): ToSshHost | undefined {
	if (line.length > MAX_SSH_HOST_LINE_BYTES) {
		return undefined;
	}
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return undefined;
	}
	if (!isObject(value)) {
		return undefined;
	}
	if (value['type'] === 'stop') {
		return { type: 'stop' };
	}
	const token = value['token'];
	return value['type'] === 'ensure' && isSshAgentToken(token) ? { type: 'ensure', token } : undefined;
}

/** Whether `value` can be an ssh agent's connection token (VS Code's characters, 16 to 256 of them). */
export function isSshAgentToken(value: unknown): value is string {
	return isString(value) && value.length >= 16 && value.length <= 256 && CONNECTION_TOKEN_PATTERN.test(value);
}
