import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../../protocol/errors';
import { Disposable, Emitter } from '../../../protocol/lifecycle';
import type { AgentAddress } from '../agent-url';
import { isPermanentError, reconnectDelayMs, retry, type RetryRun } from '../retry';
import { connectSshLink, generateAgentToken, type SshLink, type SshLinkOptions } from './ssh-link';
import { formatSshTarget } from './ssh-target';
import { sshHostKey, type SshTokenStore } from './ssh-token-store';

/** What `SshAgentTunnel.open` needs. */
export interface SshConnectOptions extends SshLinkOptions {
	/** Where the agent's token is kept between runs (the CLI: SshHostsFile; VS Code: SecretStorage). */
	readonly tokens: SshTokenStore;
}

/** Where the tunnel stands. */
export type SshTunnelState =
	| {
			readonly type: 'connected';
			readonly agentPort: number;
			readonly agentPid: number;
			readonly renewed: boolean;
	  }
	/** The ssh connection was lost; the next attempt comes after `delayMs`. */
	| {
			readonly type: 'reconnecting';
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	/** It cannot come back without the user (no node any more, a refusal): the tunnel is dead. */
	| { readonly type: 'failed'; readonly error: BerthError };

/**
 * The agent on an ssh host, reached through ssh: `open` installs and starts the agent when it is
 * not running (or not this build's), and forwards a local port to it through the system's ssh
 * (keys, config, ProxyJump, known_hosts all apply). `address` and `token` are then what any
 * Berth client connects with (`StreamForwarder.start`). When the ssh connection drops, the
 * tunnel reconnects on VS Code's schedule (0, 5, 5, 10 … 30 s) to the same local port, and the
 * host finds the same agent (or starts it again with the same token), so the client's own
 * reconnection finds it. The agent is never exposed on the host's network.
 * Disposing the tunnel ends the ssh connection; the agent stays up for other clients.
 */
export class SshAgentTunnel extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<SshTunnelState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	/** The agent, as a client connects to it: ws://127.0.0.1:PORT here, shown as ssh://HOST. */
	readonly address: AgentAddress;
	private current: SshLink;
	private currentState: SshTunnelState;
	private renewal: RetryRun<SshLink> | undefined;
	private links = 1;

	private constructor(
		private readonly options: SshConnectOptions,
		private readonly controlDir: string,
		private readonly hostKey: string,
		link: SshLink,
	) {
		super();
		this.address = {
			host: '127.0.0.1',
			port: link.localPort,
			secure: false,
			path: '/',
			display: `ssh://${formatSshTarget(options.target)}`,
		};
		this.current = link;
		this.currentState = {
			type: 'connected',
			agentPort: link.agentPort,
			agentPid: link.agentPid,
			renewed: false,
		};
		this.watch(link);
		this._register({
			dispose: () => {
				this.renewal?.dispose();
				this.current.ssh.dispose();
				rmSync(this.controlDir, { recursive: true, force: true });
			},
		});
	}

	/**
	 * Connects: ssh to the host, node found, the agent installed if need be and running, a local
	 * port forwarded to it. The token kept for the host is used when it is this build's, else a new
	 * one is made here; the host's running agent may answer with its own, which is then kept.
	 * @throws BerthError BERTH_ERR_NO_NODE, BERTH_ERR_SSH (see runHostDialogue), BERTH_ERR_USAGE
	 *   (the token store cannot be read or written).
	 */
	static async open(options: SshConnectOptions): Promise<SshAgentTunnel> {
		const hostKey = sshHostKey(options.target, options.remoteDir ?? '');
		const stored = await options.tokens.get(hostKey);
		const token = stored?.commit === options.bundle.commit ? stored.token : generateAgentToken();
		const controlDir = mkdtempSync(join(tmpdir(), 'berth-ssh-'));
		try {
			const link = await connectSshLink(options, join(controlDir, 'c1'), token, undefined);
			try {
				await options.tokens.set(hostKey, { commit: options.bundle.commit, token: link.token });
			} catch (error) {
				link.ssh.dispose();
				throw error;
			}
			return new SshAgentTunnel(options, controlDir, hostKey, link);
		} catch (error) {
			rmSync(controlDir, { recursive: true, force: true });
			throw error;
		}
	}

	get state(): SshTunnelState {
		return this.currentState;
	}

	/** The agent's token (never logged). */
	get token(): string {
		return this.current.token;
	}

	/** Whether the agent was running already when the tunnel first connected. */
	get reused(): boolean {
		return this.current.reused;
	}

	/**
	 * While reconnecting: the next ssh attempt starts now instead of after its wait (a user's
	 * Reconnect); false when there is nothing to hurry (connected, or failed for good).
	 */
	reconnectNow(): boolean {
		this.renewal?.tryNow();
		return this.renewal !== undefined;
	}

	/** The process id of the ssh connection now up (tests end it to cut the connection). */
	get sshPid(): number | undefined {
		return this.current.ssh.pid;
	}

	private watch(link: SshLink): void {
		const subscription = link.ssh.onDidExit((error) => {
			subscription.dispose();
			this.lost(error);
		});
		if (link.ssh.hasExited) {
			// It ended between connecting and being watched: its exit has fired already.
			subscription.dispose();
			this.lost(new BerthError('BERTH_ERR_SSH', `ssh to ${formatSshTarget(this.options.target)} ended`));
		}
	}

	/** The ssh connection is gone: reconnect to the same local port, until it works or cannot. */
	private lost(error: BerthError): void {
		if (this.isDisposed) {
			return;
		}
		this.renewal = retry({
			timers: this.options.timers,
			attempt: () =>
				connectSshLink(
					this.options,
					join(this.controlDir, `c${++this.links}`),
					this.token,
					this.address.port,
				),
			schedule: reconnectDelayMs,
			isPermanent: isPermanentError,
			onWait: (wait) => this.setState({ type: 'reconnecting', ...wait }),
			discard: (link) => link.ssh.dispose(),
			firstError: error.message,
		});
		void this.renewal.outcome.then((outcome) => {
			switch (outcome.type) {
				case 'succeeded':
					return this.adopt(outcome.value);
				case 'refused':
					return this.setState({ type: 'failed', error: outcome.error });
				case 'exhausted':
					return this.setState({
						type: 'failed',
						error: new BerthError('BERTH_ERR_SSH', outcome.lastError ?? 'the ssh connection was lost'),
					});
				case 'cancelled':
					return;
			}
		});
	}

	private adopt(link: SshLink): void {
		const tokenChanged = link.token !== this.current.token;
		this.renewal = undefined;
		this.current.ssh.dispose();
		this.current = link;
		this.watch(link);
		if (tokenChanged) {
			// Only a restart of the agent by someone else changes its token; clients then get a refusal.
			this.options.tokens
				.set(this.hostKey, { commit: this.options.bundle.commit, token: link.token })
				.catch(() => undefined); // the next open reads the file, and says what is wrong with it
		}
		this.setState({ type: 'connected', agentPort: link.agentPort, agentPid: link.agentPid, renewed: true });
	}

	private setState(state: SshTunnelState): void {
		this.currentState = state;
		this._onDidChangeState.fire(state);
	}
}
