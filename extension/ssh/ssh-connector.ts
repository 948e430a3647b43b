import { join } from 'node:path';
import { errorMessage } from '../../protocol/errors';
import { Disposable, toDisposable, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import {
	SshAgentTunnel,
	formatSshTarget,
	parseSshTarget,
	readAgentBundle,
	stopAgentOverSsh,
	type AgentBundle,
	type OwnForwards,
	type SshConnectOptions,
	type SshProgress,
	type SshTarget,
	type SshTokenStore,
} from '../../server/client/index';
import { tunnelOwning, type AgentTunnel } from '../agent/agent-tunnel';
import type { ExtensionLogger } from '../logger';
import type { BerthSettings } from '../settings';
import { AskpassServer, type AskpassHandler, type AskpassTicket } from './askpass-server';
import { expandHome } from './ssh-config-hosts';

/** What the connector is given by activate(). */
export interface SshConnectorHost {
	settings(): BerthSettings;
	readonly tokens: SshTokenStore;
	readonly log: ExtensionLogger;
	readonly timers: Timers;
	/** The extension's folder: dist/server.js is installed on hosts, dist/askpass.js asks for ssh. */
	readonly extensionPath: string;
	/** The user's home folder (for `~` in settings). */
	readonly home: string;
	/** Shows ssh's questions (askpass-prompt.ts). */
	readonly ask: AskpassHandler;
	/** This window's listeners (ConnectionRegistry.own): a tunnel's local port is one of them. */
	readonly own: OwnForwards;
}

/** How a user names the setting that gives the host's node, in the library's messages. */
const NODE_PATH_HINT = 'the berth.ssh.nodePath setting';

/**
 * Connects to ssh hosts for the extension (Connect to Host via SSH..., Stop Agent on Host): the
 * library's SshAgentTunnel and stopAgentOverSsh with the `berth.ssh.*` settings, the tokens in
 * SecretStorage, ssh's stderr in the log, and its questions asked in VS Code through an askpass
 * server that starts with the first connection and ends with the extension.
 */
export class SshConnector extends Disposable {
	private askpass: Promise<AskpassServer | undefined> | undefined;
	private bundle: AgentBundle | undefined;

	constructor(private readonly host: SshConnectorHost) {
		super();
		this._register(toDisposable(() => void this.askpass?.then((server) => server?.dispose())));
	}

	/**
	 * The target for what the user typed or picked, with `berth.ssh.configFile`.
	 * @throws BerthError BERTH_ERR_USAGE saying what is wrong with it.
	 */
	target(host: string): SshTarget {
		const configFile = this.host.settings().sshConfigFile;
		return parseSshTarget(
			host,
			configFile !== undefined ? expandHome(configFile, this.host.home) : undefined,
		);
	}

	/**
	 * Opens the tunnel to the agent on `target` (installing and starting it when need be). Its local
	 * port counts as this window's listener (an agent on this machine does not list it, and no
	 * forward may lead to it). The tunnel ends that and its askpass ticket when it is disposed.
	 * @throws BerthError as SshAgentTunnel.open.
	 */
	async open(target: SshTarget, onProgress: (progress: SshProgress) => void): Promise<AgentTunnel> {
		const ticket = await this.ticket(target);
		try {
			const tunnel = await SshAgentTunnel.open({ ...this.options(target, ticket), onProgress });
			let listener: IDisposable;
			try {
				listener = this.host.own.addListener(
					`the ssh tunnel to ${formatSshTarget(target)}`,
					[tunnel.address.host],
					tunnel.address.port,
				);
			} catch (error) {
				tunnel.dispose(); // a forward of this window leads to that port: BERTH_ERR_LOOP
				throw error;
			}
			return tunnelOwning(tunnel, listener, ticket);
		} catch (error) {
			ticket?.dispose();
			throw error;
		}
	}

	/**
	 * Stops this build's agent on `target` and forgets its token. Resolves with its process id, or
	 * undefined when none was running. @throws BerthError as stopAgentOverSsh.
	 */
	async stop(target: SshTarget, onProgress: (progress: SshProgress) => void): Promise<number | undefined> {
		const ticket = await this.ticket(target);
		try {
			return await stopAgentOverSsh({ ...this.options(target, ticket), onProgress });
		} finally {
			ticket?.dispose();
		}
	}

	private options(target: SshTarget, ticket: AskpassTicket | undefined): SshConnectOptions {
		const settings = this.host.settings();
		const log = this.host.log.fork(`ssh ${formatSshTarget(target)}`);
		this.bundle ??= readAgentBundle(join(this.host.extensionPath, 'dist', 'server.js'));
		return {
			target,
			bundle: this.bundle,
			timers: this.host.timers,
			tokens: this.host.tokens,
			onStderr: (line) => log.info(line),
			nodePathHint: NODE_PATH_HINT,
			...(ticket ? { env: ticket.env } : {}),
			...(settings.sshPath !== undefined ? { sshPath: expandHome(settings.sshPath, this.host.home) } : {}),
			...(settings.sshNodePath !== undefined ? { nodePath: settings.sshNodePath } : {}),
			...(settings.sshRemoteDir !== undefined ? { remoteDir: settings.sshRemoteDir } : {}),
		};
	}

	/**
	 * A ticket of the askpass server for one ssh connection; undefined where there is none (Windows,
	 * or it could not start: ssh then fails where it would have asked, and says so in the log).
	 */
	private async ticket(target: SshTarget): Promise<AskpassTicket | undefined> {
		if (process.platform === 'win32') {
			return undefined;
		}
		this.askpass ??= AskpassServer.start({
			nodePath: process.execPath,
			mainPath: join(this.host.extensionPath, 'dist', 'askpass.js'),
			ask: this.host.ask,
		}).catch((error: unknown) => {
			this.host.log.error(`ssh prompts cannot be shown: the askpass socket failed: ${errorMessage(error)}`);
			this.askpass = undefined; // the next connection tries again
			return undefined;
		});
		const server = await this.askpass;
		if (this.isDisposed) {
			server?.dispose();
			return undefined;
		}
		return server?.open(formatSshTarget(target));
	}
}
