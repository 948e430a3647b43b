/**
 * The resume case's ssh side (issue 13), run by resume-client.ts: ssh cannot resume (a dropped
 * connection loses its forwards), so its reconnect is a new `ssh -N -L`, as a user or autossh
 * starts it. Each sample starts ssh (through a FaultProxy in front of the private sshd, the same
 * hop Berth's samples cross), waits until it says its forward listens, then sends one byte
 * through the forward and waits for the echo; then stops that ssh before the next.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from '../lib/net';
import { echoOnce, openSocket } from './echo-socket';
import { microseconds, summarize } from './samples';

/**
 * What `ssh -v` prints once its -L listener is up: the listener's channel, made right after
 * listen() (channel_setup_fwd_listener_tcpip). Its "Local forwarding listening on" comes before
 * bind(): a connect at that line can be refused.
 */
const LISTENING = /^debug1: channel \d+: new port-listener /;
/** One sample must be over within this. */
const SAMPLE_TIMEOUT_MS = 20_000;

export interface SshRun {
	readonly echoPort: number;
	readonly warmup: number;
	readonly count: number;
	/** ssh's options (key, no config, `-p` the proxy's port, `-N`, `-v`), without -L and the destination. */
	readonly sshArgs: readonly string[];
	/** user@127.0.0.1 */
	readonly destination: string;
}

/** Timings in µs: `fresh.*` (start to echoed byte) and `listen.*` (start to listening). */
export async function runSsh(run: SshRun): Promise<Record<string, number>> {
	const fresh: number[] = [];
	const listen: number[] = [];
	for (let i = -run.warmup; i < run.count; i++) {
		const sample = await sshOnce(run);
		if (i >= 0) {
			fresh.push(sample.firstByte);
			listen.push(sample.listening);
		}
	}
	const values: Record<string, number> = {};
	for (const [name, list] of Object.entries({ fresh, listen })) {
		for (const [stat, value] of Object.entries(summarize(list))) {
			values[`${name}.${stat}`] = value;
		}
	}
	return values;
}

async function sshOnce(run: SshRun): Promise<{ listening: number; firstByte: number }> {
	const localPort = await freePort();
	const started = process.hrtime.bigint();
	const ssh = spawn(
		'ssh',
		[...run.sshArgs, '-L', `127.0.0.1:${localPort}:127.0.0.1:${run.echoPort}`, run.destination],
		{ stdio: ['ignore', 'ignore', 'pipe'] },
	);
	const exited = new Promise<void>((resolve) => ssh.once('exit', () => resolve()));
	try {
		await forwardListening(ssh);
		const listening = microseconds(started, process.hrtime.bigint());
		const socket = await openSocket(localPort);
		try {
			await echoOnce(socket, SAMPLE_TIMEOUT_MS);
		} finally {
			socket.destroy();
		}
		return { listening, firstByte: microseconds(started, process.hrtime.bigint()) };
	} finally {
		ssh.kill('SIGTERM');
		await exited;
	}
}

/** Resolves once ssh says its -L listens; rejects if ssh exits or takes too long. */
function forwardListening(ssh: ChildProcess): Promise<void> {
	return new Promise((resolve, reject) => {
		const lines = createInterface({ input: ssh.stderr! });
		const tail: string[] = [];
		const done = (error?: Error): void => {
			clearTimeout(timer);
			lines.removeAllListeners('line');
			ssh.off('exit', onExit);
			if (error) {
				reject(error);
			} else {
				resolve();
			}
		};
		const onExit = (code: number | null): void =>
			done(new Error(`ssh exited (${code}) before its forward listened: ${tail.slice(-5).join(' | ')}`));
		const timer = setTimeout(
			() => done(new Error(`ssh's forward did not listen within ${SAMPLE_TIMEOUT_MS} ms`)),
			SAMPLE_TIMEOUT_MS,
		);
		lines.on('line', (line) => {
			if (LISTENING.test(line)) {
				done();
				return;
			}
			tail.push(line);
		});
		ssh.once('exit', onExit);
	});
}
