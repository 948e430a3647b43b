import { spawn } from 'node:child_process';
import { BerthError } from '../../../protocol/errors';
import type { Timers } from '../../../protocol/timers';
import { createLineSplitter } from './line-splitter';
import type { SshCommandOptions } from './ssh-host-process';
import { sshTargetArgs } from './ssh-target';

/** The longest a forward request to the running ssh may take: it only talks to a local socket. */
const CONTROL_REQUEST_TIMEOUT_MS = 15_000;
/** The most stderr kept for the error message. */
const MAX_STDERR_BYTES = 4096;

/**
 * Asks the ssh connection behind `controlPath` (ours: `ssh -M -S controlPath`) to forward this
 * machine's 127.0.0.1:localPort to the host's 127.0.0.1:agentPort (`ssh -O forward -L`): no new
 * login, the forward rides the connection that is up, and ends with it.
 * @throws BerthError BERTH_ERR_SSH with ssh's words (e.g. the local port was taken meanwhile).
 */
export function addControlForward(
	command: SshCommandOptions,
	controlPath: string,
	localPort: number,
	agentPort: number,
	timers: Timers,
): Promise<void> {
	const args = [
		'-S',
		controlPath,
		'-O',
		'forward',
		'-L',
		`127.0.0.1:${localPort}:127.0.0.1:${agentPort}`,
		...sshTargetArgs(command.target),
	];
	return new Promise((resolve, reject) => {
		const child = spawn(command.sshPath ?? 'ssh', args, {
			stdio: ['ignore', 'ignore', 'pipe'],
			env: { ...process.env, ...command.env },
		});
		const said: string[] = [];
		child.stderr.on(
			'data',
			createLineSplitter(MAX_STDERR_BYTES, (line) => said.push(line)),
		);
		const timer = timers.timeout(() => child.kill('SIGKILL'), CONTROL_REQUEST_TIMEOUT_MS);
		child.on('error', (error) => {
			timer.dispose();
			reject(new BerthError('BERTH_ERR_SSH', `cannot run ssh -O forward: ${error.message}`));
		});
		child.on('close', (code) => {
			timer.dispose();
			if (code === 0) {
				resolve();
				return;
			}
			reject(
				new BerthError(
					'BERTH_ERR_SSH',
					`ssh could not forward 127.0.0.1:${localPort} to the agent's port ${agentPort}` +
						(said.length > 0 ? `: ${said.join(' / ')}` : ` (status ${code})`),
				),
			);
		});
	});
}
