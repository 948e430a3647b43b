import { resolve } from 'node:path';
import { formatSshTarget, type SshTarget } from './ssh-target';

/** The token of the agent a client started on a host, and the build it started. */
export interface SshAgentToken {
	/** The agent's commit: a token is used only with an agent of the same build. */
	readonly commit: string;
	/** Never logged. */
	readonly token: string;
}

/**
 * Where a client keeps the tokens of its agents on ssh hosts: the CLI's ssh-hosts.json (0600,
 * beside its saved logins), VS Code's SecretStorage. Keys come from `sshHostKey`.
 */
export interface SshTokenStore {
	get(host: string): Promise<SshAgentToken | undefined>;
	set(host: string, value: SshAgentToken): Promise<void>;
	delete(host: string): Promise<void>;
}

/**
 * The key of a host in a token store: the target as written (`alice@devbox:2222`), with the ssh
 * config file and the remote folder when they are not the defaults (the same alias in another
 * config, or another folder on the host, is another agent).
 */
export function sshHostKey(target: SshTarget, remoteDir: string): string {
	return [
		formatSshTarget(target),
		...(target.configFile !== undefined ? [`config=${resolve(target.configFile)}`] : []),
		...(remoteDir !== '' ? [`dir=${remoteDir}`] : []),
	].join('|');
}
