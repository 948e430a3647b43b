import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { BerthError } from '../../../protocol/errors';
import type { Timers } from '../../../protocol/timers';
import type { AgentBundle } from './agent-bundle';
import { addControlForward } from './control-forward';
import { runHostDialogue, type HostDialogueOptions, type SshProgress } from './host-dialogue';
import { SshHostProcess, type SshCommandOptions } from './ssh-host-process';

/** What connecting to a host over ssh needs (SshAgentTunnel's options, less the token store). */
export interface SshLinkOptions extends SshCommandOptions {
	/** The agent to install: readAgentBundle(dist/server.js). */
	readonly bundle: AgentBundle;
	readonly timers: Timers;
	/** The folder on the host for the agent, its token and state (default '' = ~/.berth; `~/` is the home). */
	readonly remoteDir?: string;
	/** The node to run on the host (default: `node` on its PATH). */
	readonly nodePath?: string;
	/** How the user gives a node path here, for messages (default `--node PATH`). */
	readonly nodePathHint?: string;
	readonly onProgress?: (progress: SshProgress) => void;
}

/** One ssh connection to a host that carries the agent's port to a local one. */
export interface SshLink {
	/** The ssh connection (`ssh -M`): the forward lives as long as it does. */
	readonly ssh: SshHostProcess;
	/** This machine's 127.0.0.1 port that leads to the agent. */
	readonly localPort: number;
	readonly agentPort: number;
	readonly agentPid: number;
	/** The agent's token: the one sent, or the running agent's when it holds another. */
	readonly token: string;
	readonly reused: boolean;
}

/** Keep-alives on the ssh connection: a dead path is noticed within 45 s, and the tunnel reconnects. */
const SERVER_ALIVE_ARGS = ['-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3'];
/** Local ports tried when the one picked is taken before ssh binds it (the first connection only). */
const LOCAL_PORT_TRIES = 3;

/** The dialogue's options, with the defaults filled in. */
export function dialogueOptions(options: SshLinkOptions): HostDialogueOptions {
	return {
		target: options.target,
		bundle: options.bundle,
		remoteDir: options.remoteDir ?? '',
		nodePath: options.nodePath ?? '',
		nodePathHint: options.nodePathHint ?? '--node PATH',
		...(options.onProgress ? { onProgress: options.onProgress } : {}),
	};
}

/** A fresh agent token: 32 random bytes, base64url (43 of VS Code's token characters). */
export function generateAgentToken(): string {
	return randomBytes(32).toString('base64url');
}

/**
 * Connects once: starts `ssh -M -S controlPath` (a connection of our own, whatever the user's
 * ControlMaster settings), makes sure the build's agent runs on the host (installing and
 * starting it if need be, with `token` for a new one), then forwards 127.0.0.1:localPort here to
 * the agent's port over that same connection. `localPort` undefined: a free one is picked.
 * @throws BerthError as runHostDialogue and addControlForward do; ssh is ended then.
 */
export async function connectSshLink(
	options: SshLinkOptions,
	controlPath: string,
	token: string,
	localPort: number | undefined,
): Promise<SshLink> {
	const ssh = SshHostProcess.start(options, [
		'-M',
		'-S',
		controlPath,
		// The user's ControlPersist would fork the connection away from us: this one ends with its process.
		'-o',
		'ControlPersist=no',
		...SERVER_ALIVE_ARGS,
	]);
	try {
		const reply = await runHostDialogue(ssh, dialogueOptions(options), { type: 'ensure', token });
		if (reply.type !== 'agent') {
			throw new BerthError('BERTH_ERR_INTERNAL', `the host answered ${reply.type} to ensure`);
		}
		const port = await forwardLocalPort(options, controlPath, reply.port, localPort);
		return {
			ssh,
			localPort: port,
			agentPort: reply.port,
			agentPid: reply.pid,
			token: reply.token ?? token,
			reused: reply.reused,
		};
	} catch (error) {
		ssh.dispose();
		throw error;
	}
}

/** Forwards `localPort` (or a free one, tried again if it is taken meanwhile) to the agent. */
async function forwardLocalPort(
	options: SshLinkOptions,
	controlPath: string,
	agentPort: number,
	localPort: number | undefined,
): Promise<number> {
	if (localPort !== undefined) {
		await addControlForward(options, controlPath, localPort, agentPort, options.timers);
		return localPort;
	}
	for (let attempt = 1; ; attempt++) {
		const port = await freeLocalPort();
		try {
			await addControlForward(options, controlPath, port, agentPort, options.timers);
			return port;
		} catch (error) {
			if (attempt >= LOCAL_PORT_TRIES) {
				throw error;
			}
		}
	}
}

/** A port of 127.0.0.1 that was free a moment ago (the system picks it). */
function freeLocalPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}
