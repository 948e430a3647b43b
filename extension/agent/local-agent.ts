import { errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { ExtensionLogger } from '../logger';
import { AgentProcess } from './agent-process';
import type { ConnectionRegistry } from './connection-registry';
import { LOCAL_AGENT_ID } from './connection';

/** Tunnel access: the agent this window runs on this machine. */
export type LocalAgentState =
	| { readonly type: 'off' }
	| { readonly type: 'starting' }
	| { readonly type: 'on'; readonly url: string; readonly clients: number }
	| { readonly type: 'stopping' }
	| { readonly type: 'error'; readonly message: string };

/** What the local agent needs, given by activate(). */
export interface LocalAgentOptions {
	readonly serverJs: string;
	readonly storageDir: string;
	/** The agent's connection token (SecretStorage; created on first use). */
	readonly token: () => Promise<string>;
	readonly connections: ConnectionRegistry;
	readonly log: ExtensionLogger;
	readonly timers: Timers;
}

/**
 * Starts and stops this window's own agent, and connects to it like to any other agent (id
 * `local`), so its forwards and detected ports show in the panel. An agent that exits on its own
 * puts the state to `error`; `stop()` is what deactivate() awaits.
 */
export class LocalAgent extends Disposable {
	private readonly _onDidChangeState = this._register(new Emitter<LocalAgentState>());
	readonly onDidChangeState = this._onDidChangeState.event;

	private current: LocalAgentState = { type: 'off' };
	private process: AgentProcess | undefined;
	private processListeners: IDisposable[] = [];
	private starting: Promise<void> | undefined;

	constructor(private readonly options: LocalAgentOptions) {
		super();
		this._register({ dispose: () => this.process?.dispose() });
	}

	get state(): LocalAgentState {
		return this.current;
	}

	get isRunning(): boolean {
		return this.current.type === 'on' || this.current.type === 'starting';
	}

	/** Starts the agent (no-op while it runs). @throws the start failure, after setting `error`. */
	start(): Promise<void> {
		if (this.current.type === 'on') {
			return Promise.resolve();
		}
		this.starting ??= this.doStart().finally(() => (this.starting = undefined));
		return this.starting;
	}

	/** Stops the agent and waits for it to exit. */
	async stop(): Promise<void> {
		await this.starting?.catch(() => undefined);
		const agent = this.process;
		if (!agent) {
			if (this.current.type === 'error') {
				this.setState({ type: 'off' });
			}
			return;
		}
		this.setState({ type: 'stopping' });
		this.options.connections.disconnect(LOCAL_AGENT_ID);
		this.detach();
		await agent.stop();
		this.options.log.info('agent stopped');
		this.setState({ type: 'off' });
	}

	private async doStart(): Promise<void> {
		const { log } = this.options;
		this.setState({ type: 'starting' });
		try {
			const token = await this.options.token();
			const agent = await AgentProcess.start({
				serverJs: this.options.serverJs,
				storageDir: this.options.storageDir,
				token,
				log: log.fork('agent'),
				timers: this.options.timers,
			});
			this.attach(agent);
			log.info(`agent started at ${agent.url} (pid ${agent.pid ?? '?'}, extension host pid ${process.pid})`);
			const connection = await this.options.connections.connect({
				id: LOCAL_AGENT_ID,
				url: agent.url,
				token,
				peer: 'berth',
				isLocal: true,
			});
			// The agent says when its clients come and go (RPC `clientsChanged`).
			this.processListeners.push(
				connection.onDidChangeClients(() => {
					if (this.current.type === 'on') {
						this.setState({ ...this.current, clients: this.clients() });
					}
				}),
			);
			this.setState({ type: 'on', url: agent.url, clients: this.clients() });
		} catch (error) {
			const message = errorMessage(error);
			log.error(`starting the agent failed: ${message}`);
			const failed = this.process;
			this.detach();
			await failed?.stop();
			this.setState({ type: 'error', message });
			throw error;
		}
	}

	private attach(agent: AgentProcess): void {
		this.process = agent;
		this.processListeners = [
			agent.onDidExit((exit) => {
				if (exit.expected || this.process !== agent) {
					return;
				}
				const how = exit.signal ?? `code ${exit.code}`;
				this.options.log.error(`the agent exited unexpectedly (${how})`);
				this.options.connections.disconnect(LOCAL_AGENT_ID);
				this.detach();
				this.setState({ type: 'error', message: `the agent exited unexpectedly (${how})` });
			}),
		];
	}

	private detach(): void {
		for (const listener of this.processListeners) {
			listener.dispose();
		}
		this.processListeners = [];
		this.process = undefined;
	}

	/** Clients other than this window's own connection. */
	private clients(): number {
		return this.options.connections.get(LOCAL_AGENT_ID)?.otherClients ?? 0;
	}

	private setState(state: LocalAgentState): void {
		this.current = state;
		this._onDidChangeState.fire(state);
	}
}
