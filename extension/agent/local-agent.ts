import { errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import { describeAgentExit } from '../error-text';
import type { ExtensionLogger } from '../logger';
import { AgentProcess } from './agent-process';
import type { ConnectionRegistry } from './connection-registry';
import { LOCAL_AGENT_ID } from './connection';
import { groupTunnelClients } from './tunnel-clients';
import { bindHosts } from '../../server/client/index';
import { chooseTunnelPort, type PortProbe, type RememberedTunnelPort } from './tunnel-port';

/** Tunnel access: the agent this window runs on this machine. */
export type LocalAgentState =
	| { readonly type: 'off' }
	| { readonly type: 'starting' }
	| {
			readonly type: 'on';
			/** The URL the agent printed (`ws://127.0.0.1:8765`). */
			readonly url: string;
			/** Where it listens, as configured (`berth.tunnel.host`) and chosen. */
			readonly host: string;
			readonly port: number;
			/** Other clients using it (one per peer; this window not counted). */
			readonly clients: number;
	  }
	| { readonly type: 'stopping' }
	| { readonly type: 'error'; readonly message: string };

/** What the local agent needs, given by activate(). */
export interface LocalAgentOptions {
	readonly serverJs: string;
	readonly storageDir: string;
	/** The agent's connection token (SecretStorage; created on first use). */
	readonly token: () => Promise<string>;
	/** Where to listen: `berth.tunnel.host` and `berth.tunnel.port`, read at each start. */
	readonly address: () => { readonly host: string; readonly port: number };
	/** The port chosen last time, kept across restarts (globalState). */
	readonly portMemory: {
		load(): RememberedTunnelPort | undefined;
		save(port: RememberedTunnelPort): void;
	};
	readonly probe: PortProbe;
	readonly connections: ConnectionRegistry;
	readonly log: ExtensionLogger;
	readonly timers: Timers;
}

/**
 * Starts and stops this window's own agent, and connects to it like to any other agent (id
 * `local`), so its forwards and detected ports show in the panel. It listens on a stable port
 * (tunnel-port.ts). An agent that exits on its own puts the state to `error`; `stop()` is what
 * deactivate() awaits.
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
		const { log, address, portMemory } = this.options;
		this.setState({ type: 'starting' });
		try {
			const token = await this.options.token();
			const { host, port: preferred } = address();
			const port = await chooseTunnelPort(host, preferred, portMemory.load(), this.options.probe);
			const agent = await AgentProcess.start({
				serverJs: this.options.serverJs,
				storageDir: this.options.storageDir,
				token,
				host,
				port,
				log: log.fork('agent'),
				timers: this.options.timers,
			});
			this.attach(agent);
			const actualPort = Number(new URL(agent.url).port) || port;
			portMemory.save({ preferred, port: actualPort });
			this.declareListener(host, actualPort);
			log.info(`agent started at ${agent.url} (pid ${agent.pid ?? '?'}, extension host pid ${process.pid})`);
			await this.connect(agent.url, token);
			this.setState({ type: 'on', url: agent.url, host, port: actualPort, clients: 0 });
			this.countClients();
		} catch (error) {
			log.error(`starting the agent failed: ${errorMessage(error)}`);
			const failed = this.process;
			this.detach();
			await failed?.stop();
			this.setState({ type: 'error', message: errorMessage(error) });
			throw error;
		}
	}

	/** Connects to the agent as to any other; its clients are counted as they come and go. */
	private async connect(url: string, token: string): Promise<void> {
		const connection = await this.options.connections.connect({
			id: LOCAL_AGENT_ID,
			url,
			token,
			peer: 'berth',
			isLocal: true,
		});
		// The agent says when its clients come and go (RPC `clientsChanged`).
		this.processListeners.push(connection.onDidChangeClients(() => this.countClients()));
	}

	/** The other clients, one per peer (`listClients`), or by session when the agent cannot list them. */
	private countClients(): void {
		const connection = this.options.connections.get(LOCAL_AGENT_ID);
		if (!connection) {
			return;
		}
		const set = (clients: number): void => {
			if (this.current.type === 'on' && this.current.clients !== clients) {
				this.setState({ ...this.current, clients });
			}
		};
		set(connection.otherClients);
		connection.listClients().then(
			(clients) => set(groupTunnelClients(clients, this.options.connections.clientName).length),
			() => undefined, // the session count stands
		);
	}

	private attach(agent: AgentProcess): void {
		this.process = agent;
		this.processListeners = [
			agent.onDidExit((exit) => {
				if (exit.expected || this.process !== agent) {
					return;
				}
				const message = describeAgentExit(exit);
				this.options.log.error(`${message} (${exit.signal ?? `exit code ${exit.code}`})`);
				this.options.connections.disconnect(LOCAL_AGENT_ID);
				this.detach();
				this.setState({ type: 'error', message });
			}),
		];
	}

	/**
	 * The agent's port is this window's listener: agents on this machine are told so, and do not
	 * list it as a detected port (nor does anything auto-forward it).
	 */
	private declareListener(host: string, port: number): void {
		try {
			this.processListeners.push(
				this.options.connections.own.addListener('tunnel access', bindHosts(host), port),
			);
		} catch (error) {
			this.options.log.warn(
				`tunnel access on ${port} is where one of this window's forwards leads: ${errorMessage(error)}`,
			);
		}
	}

	private detach(): void {
		for (const listener of this.processListeners) {
			listener.dispose();
		}
		this.processListeners = [];
		this.process = undefined;
	}

	private setState(state: LocalAgentState): void {
		this.current = state;
		this._onDidChangeState.fire(state);
	}
}
