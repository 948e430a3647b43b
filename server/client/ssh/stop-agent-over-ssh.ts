import { runHostDialogue } from './host-dialogue';
import { SshHostProcess } from './ssh-host-process';
import { dialogueOptions, type SshLinkOptions } from './ssh-link';
import { sshHostKey, type SshTokenStore } from './ssh-token-store';

/** What `stopAgentOverSsh` needs. */
export interface SshStopOptions extends SshLinkOptions {
	/** The host's token is removed from it. */
	readonly tokens: SshTokenStore;
}

/**
 * Ends this build's agent on the host (SIGTERM, then SIGKILL if it lingers) and removes its token
 * and state files there, and the token kept here. Agents of other builds are left alone.
 * Returns the stopped agent's process id, or undefined when none was running.
 * @throws BerthError BERTH_ERR_NO_NODE, BERTH_ERR_SSH (see runHostDialogue).
 */
export async function stopAgentOverSsh(options: SshStopOptions): Promise<number | undefined> {
	const ssh = SshHostProcess.start(options, []);
	try {
		const reply = await runHostDialogue(ssh, dialogueOptions(options), { type: 'stop' });
		await options.tokens.delete(sshHostKey(options.target, options.remoteDir ?? ''));
		return reply.type === 'stopped' ? reply.pid : undefined;
	} finally {
		ssh.end();
		ssh.dispose();
	}
}
