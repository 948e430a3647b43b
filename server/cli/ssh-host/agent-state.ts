import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isInteger, isObject, isPort } from '../../../protocol/guards';
import { readSecretFile, writeSecretFileAtomically } from '../../shared/secret-file';
import { stripOneNewline } from '../../shared/token-rules';
import { isSshAgentToken } from '../../../protocol/ssh-bootstrap';

/**
 * The files of one build's agent in the host's Berth folder (~/.berth), all 0600 in a 0700 folder:
 *
 *     server-<commit>.js     the agent (installed by the bootstrap)
 *     token-<commit>         its connection token (--connection-token-file)
 *     agent-<commit>.json    {"pid", "port", "started"}: where it runs
 *     agent-<commit>.log     its stdout and stderr (the listening line, its log)
 *     lock-<commit>/         held while a client checks, starts or stops it
 */
export interface AgentFiles {
	readonly dir: string;
	readonly commit: string;
}

/** Where the agent said it runs. */
export interface AgentState {
	readonly pid: number;
	readonly port: number;
	/** ISO 8601. */
	readonly started: string;
}

export const agentBundleName = (commit: string): string => `server-${commit}.js`;
export const agentTokenName = (commit: string): string => `token-${commit}`;
export const agentStateName = (commit: string): string => `agent-${commit}.json`;
export const agentLogName = (commit: string): string => `agent-${commit}.log`;

/** The state file's contents, or undefined when there is none or it does not parse (then nothing runs that we know of). */
export function readAgentState(files: AgentFiles): AgentState | undefined {
	const file = readSecretFile(files.dir, agentStateName(files.commit));
	if (file === undefined) {
		return undefined;
	}
	let value: unknown;
	try {
		value = JSON.parse(file.text);
	} catch {
		return undefined;
	}
	if (!isObject(value) || !isInteger(value['pid'], 1) || !isPort(value['port'])) {
		return undefined;
	}
	return { pid: value['pid'], port: value['port'], started: String(value['started'] ?? '') };
}

export function writeAgentState(files: AgentFiles, state: AgentState): void {
	writeSecretFileAtomically(files.dir, agentStateName(files.commit), JSON.stringify(state) + '\n');
}

/** The running agent's token, or undefined when its file is missing or not a token. */
export function readAgentToken(files: AgentFiles): string | undefined {
	const file = readSecretFile(files.dir, agentTokenName(files.commit));
	const token = file && stripOneNewline(file.text);
	return isSshAgentToken(token) ? token : undefined;
}

/** Writes the token a new agent reads (0600, atomically). */
export function writeAgentToken(files: AgentFiles, token: string): void {
	writeSecretFileAtomically(files.dir, agentTokenName(files.commit), token + '\n');
}

/** Removes the token and state files (what `berth ssh --stop` leaves behind: the agent's file and log). */
export function removeAgentFiles(files: AgentFiles): void {
	rmSync(join(files.dir, agentTokenName(files.commit)), { force: true });
	rmSync(join(files.dir, agentStateName(files.commit)), { force: true });
}
