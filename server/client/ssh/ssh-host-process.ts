import { spawn, type ChildProcess } from 'node:child_process';
import { BerthError } from '../../../protocol/errors';
import { Disposable, Emitter } from '../../../protocol/lifecycle';
import { MAX_SSH_HOST_LINE_BYTES, parseSshHostLine, type FromSshHost } from '../../../protocol/ssh-bootstrap';
import { createLineSplitter } from './line-splitter';
import { formatSshTarget, sshTargetArgs, type SshTarget } from './ssh-target';

/** How `berth ssh` runs the system's ssh: the same for every ssh process it starts for a host. */
export interface SshCommandOptions {
	readonly target: SshTarget;
	/** The ssh binary (default `ssh`, on PATH). */
	readonly sshPath?: string;
	/**
	 * Added to ssh's environment. The extension sets SSH_ASKPASS (a helper that asks in an input
	 * box) and SSH_ASKPASS_REQUIRE=force here; the CLI adds nothing, so that ssh asks on the
	 * terminal (/dev/tty) as it always does.
	 */
	readonly env?: Readonly<Record<string, string>>;
	/**
	 * Each line ssh writes on stderr (its errors, the host's login noise). Absent: ssh writes to
	 * this process's stderr, where the CLI's user sees it as ssh's own.
	 */
	readonly onStderr?: (line: string) => void;
}

/** The most stderr lines kept for an error message. */
const STDERR_TAIL_LINES = 5;
/** The longest stderr line kept. */
const MAX_STDERR_LINE_BYTES = 4096;

/**
 * One ssh process whose remote command speaks `berth ssh`'s dialogue (protocol/ssh-bootstrap.ts):
 * its stdout is read as the host's lines (anything else is skipped), its stdin written as the
 * client's. Disposing it ends ssh (SIGTERM).
 */
export class SshHostProcess extends Disposable {
	private readonly _onDidExit = this._register(new Emitter<BerthError>());
	/** ssh exited (or could not start): why, in words. Fires once. */
	readonly onDidExit = this._onDidExit.event;

	private readonly child: ChildProcess;
	private readonly messages: FromSshHost[] = [];
	private waiter: { resolve(m: FromSshHost): void; reject(e: BerthError): void } | undefined;
	private exitError: BerthError | undefined;
	private readonly exitedOnce: Promise<BerthError>;
	private resolveExited!: (error: BerthError) => void;
	private readonly stderrTail: string[] = [];

	private constructor(
		private readonly options: SshCommandOptions,
		args: readonly string[],
	) {
		super();
		this.exitedOnce = new Promise((resolve) => (this.resolveExited = resolve));
		this.child = spawn(options.sshPath ?? 'ssh', [...args], {
			stdio: ['pipe', 'pipe', options.onStderr ? 'pipe' : 'inherit'],
			env: { ...process.env, ...options.env },
		});
		this.child.stdout!.on(
			'data',
			createLineSplitter(MAX_SSH_HOST_LINE_BYTES, (line) => this.receive(line)),
		);
		this.child.stderr?.on(
			'data',
			createLineSplitter(MAX_STDERR_LINE_BYTES, (line) => this.stderrLine(line)),
		);
		this.child.stdin!.on('error', () => undefined); // EPIPE once ssh is gone: its exit says why
		this.child.on('error', (error) =>
			this.exited(`cannot run ${options.sshPath ?? 'ssh'}: ${error.message}`, true, false),
		);
		this.child.on('close', (code, signal) =>
			signal
				? this.exited(`ssh to ${formatSshTarget(options.target)} was ended by ${signal}`, true, false)
				: this.exited(`ssh to ${formatSshTarget(options.target)} exited with status ${code}`),
		);
		this._register({
			dispose: () => {
				if (this.child.exitCode === null && this.child.signalCode === null) {
					this.child.kill('SIGTERM');
				}
				this.exited('the ssh connection was closed by this client', false, false);
			},
		});
	}

	/**
	 * Starts `ssh OPTIONS… TARGET /bin/sh`: the remote command is the POSIX shell, which reads the
	 * script that the caller writes first. `options` come before the target's own arguments.
	 */
	static start(command: SshCommandOptions, options: readonly string[]): SshHostProcess {
		return new SshHostProcess(command, [
			...options,
			// The session carries the dialogue, not a terminal; a RemoteCommand of the user's config
			// would replace /bin/sh, and their LocalForwards would open (or fail) a second time.
			'-T',
			'-o',
			'RemoteCommand=none',
			'-o',
			'ClearAllForwardings=yes',
			...sshTargetArgs(command.target),
			'/bin/sh',
		]);
	}

	/** ssh's process id (for tests and logs), while it runs. */
	get pid(): number | undefined {
		return this.child.pid;
	}

	/** Whether ssh has exited. */
	get hasExited(): boolean {
		return this.exitError !== undefined;
	}

	/**
	 * The host's next message.
	 * @throws BerthError BERTH_ERR_SSH once ssh has exited with nothing more said.
	 */
	next(): Promise<FromSshHost> {
		const message = this.messages.shift();
		if (message) {
			return Promise.resolve(message);
		}
		if (this.exitError) {
			return Promise.reject(this.exitError);
		}
		return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
	}

	/**
	 * Writes to the remote command's stdin; resolves once the bytes are handed to ssh.
	 * @throws BerthError BERTH_ERR_SSH, why ssh is gone, when it cannot take them.
	 */
	write(data: string | Uint8Array): Promise<void> {
		return new Promise((resolve, reject) =>
			this.child.stdin!.write(data, (error) => {
				if (error) {
					void this.exitedOnce.then(reject); // EPIPE says less than ssh's exit will
				} else {
					resolve();
				}
			}),
		);
	}

	/** Closes the remote command's stdin: the host's side ends, and with it the session. */
	end(): void {
		this.child.stdin!.end();
	}

	/** The error message's tail: what ssh said last, when its stderr is read here. */
	private tail(): string {
		if (!this.options.onStderr) {
			return ' (ssh said why above)';
		}
		return this.stderrTail.length > 0 ? `: ${this.stderrTail.join(' / ')}` : '';
	}

	private receive(line: string): void {
		const message = parseSshHostLine(line);
		if (!message) {
			return; // a login script's output, not the host's side
		}
		if (this.waiter) {
			const { resolve } = this.waiter;
			this.waiter = undefined;
			resolve(message);
		} else {
			this.messages.push(message);
		}
	}

	private stderrLine(line: string): void {
		this.stderrTail.push(line);
		if (this.stderrTail.length > STDERR_TAIL_LINES) {
			this.stderrTail.shift();
		}
		this.options.onStderr?.(line);
	}

	/**
	 * Records why ssh is gone, for `next()`; fires onDidExit unless this side ended it (`fire`
	 * false). `saidWhy`: ssh itself exited, and what it wrote on stderr says why.
	 */
	private exited(what: string, fire = true, saidWhy = true): void {
		if (this.exitError) {
			return;
		}
		this.exitError = new BerthError('BERTH_ERR_SSH', what + (saidWhy ? this.tail() : ''));
		this.resolveExited(this.exitError);
		if (this.waiter) {
			const { reject } = this.waiter;
			this.waiter = undefined;
			reject(this.exitError);
		}
		if (fire) {
			this._onDidExit.fire(this.exitError);
		}
	}
}
