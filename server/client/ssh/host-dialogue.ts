import { BerthError } from '../../../protocol/errors';
import {
	MIN_NODE_MAJOR,
	type FromSshHost,
	type NoNodeReason,
	type ToSshHost,
} from '../../../protocol/ssh-bootstrap';
import type { AgentBundle } from './agent-bundle';
import { buildRemoteScript } from './remote-script';
import type { SshHostProcess } from './ssh-host-process';
import { formatSshTarget, type SshTarget } from './ssh-target';

/** Where `berth ssh` stands with a host, for a progress display. */
export type SshProgress =
	/** ssh runs: it connects and logs in (a host-key or passphrase prompt may be waiting). */
	| { readonly step: 'connecting' }
	/** Logged in; this node runs the host's side. */
	| { readonly step: 'node-found'; readonly version: string }
	/** The agent is being uploaded (missing, or its checksum was wrong). */
	| { readonly step: 'installing'; readonly bytes: number }
	/** The host finds the running agent, or starts one. */
	| { readonly step: 'starting' }
	/** The agent runs on the host's 127.0.0.1:port. */
	| { readonly step: 'ready'; readonly reused: boolean; readonly port: number; readonly pid: number };

/** What the dialogue needs besides the ssh process. */
export interface HostDialogueOptions {
	readonly target: SshTarget;
	readonly bundle: AgentBundle;
	/** '' for ~/.berth. */
	readonly remoteDir: string;
	/** '' to look for node on the host's PATH. */
	readonly nodePath: string;
	/** How the user gives a node path in this interface, for messages (the CLI: `--node PATH`). */
	readonly nodePathHint: string;
	readonly onProgress?: (progress: SshProgress) => void;
}

/** The host's answer to the request: `agent` for `ensure`, `stopped` for `stop`. */
export type HostReply = Extract<FromSshHost, { type: 'agent' } | { type: 'stopped' }>;

/**
 * Runs the dialogue of protocol/ssh-bootstrap.ts on a fresh ssh process: sends the script,
 * installs the agent when the host's copy is missing or not this build's, then sends `request`
 * and returns the host's answer. The ssh process stays up afterwards (the caller ends it).
 * @throws BerthError BERTH_ERR_NO_NODE (no usable node, in words and with what to do), or
 *   BERTH_ERR_SSH (ssh failed, or the host's side did: the message says which).
 */
export async function runHostDialogue(
	ssh: SshHostProcess,
	options: HostDialogueOptions,
	request: ToSshHost,
): Promise<HostReply> {
	const { bundle } = options;
	options.onProgress?.({ step: 'connecting' });
	await ssh.write(
		buildRemoteScript({ remoteDir: options.remoteDir, nodePath: options.nodePath, commit: bundle.commit }),
	);
	const hello = await expect(ssh, options, 'hello');
	options.onProgress?.({ step: 'node-found', version: hello.node });
	if (hello.sha256 !== bundle.sha256) {
		options.onProgress?.({ step: 'installing', bytes: bundle.bytes.byteLength });
		await ssh.write(
			JSON.stringify({ type: 'upload', size: bundle.bytes.byteLength, sha256: bundle.sha256 }) + '\n',
		);
		await ssh.write(bundle.bytes);
		await ssh.write(JSON.stringify(request) + '\n');
		await expect(ssh, options, 'installed');
	} else {
		await ssh.write(JSON.stringify({ type: 'run' }) + '\n' + JSON.stringify(request) + '\n');
	}
	options.onProgress?.({ step: 'starting' });
	const reply = await expect(ssh, options, request.type === 'ensure' ? 'agent' : 'stopped');
	if (reply.type === 'agent') {
		options.onProgress?.({ step: 'ready', reused: reply.reused, port: reply.port, pid: reply.pid });
	}
	return reply;
}

/** The host's next message, which must be `type`; anything else ends the dialogue with its reason. */
async function expect<T extends FromSshHost['type']>(
	ssh: SshHostProcess,
	options: HostDialogueOptions,
	type: T,
): Promise<Extract<FromSshHost, { type: T }>> {
	const message = await ssh.next();
	if (message.type === type) {
		return message as Extract<FromSshHost, { type: T }>;
	}
	const host = formatSshTarget(options.target);
	switch (message.type) {
		case 'no-node':
			throw noNode(message.reason, message.version, host, options);
		case 'error':
			throw new BerthError('BERTH_ERR_SSH', `on ${host}: ${message.message}`);
		case 'exit':
			throw new BerthError(
				'BERTH_ERR_SSH',
				`Berth's side on ${host} ended (status ${message.status}) before it answered; its error is above, or ` +
					'run the same command with ssh -v to see more',
			);
		default:
			throw new BerthError('BERTH_ERR_SSH', `${host} answered ${message.type} where ${type} was expected`);
	}
}

function noNode(
	reason: NoNodeReason,
	version: string | undefined,
	host: string,
	options: HostDialogueOptions,
): BerthError {
	const need = `Node.js ${MIN_NODE_MAJOR} or later`;
	switch (reason) {
		case 'missing':
			return new BerthError(
				'BERTH_ERR_NO_NODE',
				`no node on ${host}'s PATH (as a non-interactive ssh session sees it): install ${need} there, ` +
					`or give the path of one with ${options.nodePathHint}; no agent was started`,
			);
		case 'not-executable':
			return new BerthError(
				'BERTH_ERR_NO_NODE',
				`${options.nodePath} is not an executable file on ${host}: give the path of ${need} there with ` +
					`${options.nodePathHint}; no agent was started`,
			);
		case 'too-old':
			return new BerthError(
				'BERTH_ERR_NO_NODE',
				`node on ${host} is ${version !== undefined ? `version ${version}` : 'too old'}, and the agent needs ${need}: install a newer one, or give ` +
					`its path with ${options.nodePathHint}; no agent was started`,
			);
	}
}
