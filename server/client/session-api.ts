import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter } from '../../protocol/lifecycle';
import {
	parseListClientsResult,
	parseListeningPorts,
	parsePortsChanged,
	type AgentClientInfo,
	type AgentEvents,
	type ListeningPort,
	type ServerInfo,
} from '../../protocol/rpc';
import type { ClientRpc } from './agent-connection';
import type { OwnForwards } from './own-forwards';

/** A change of the agent's listening ports, this client's own listeners left out. */
export type PortsChange = AgentEvents['portsChanged'];

/**
 * The typed calls every session with an agent offers, Management and stream sessions alike, with
 * their answers checked: who the client is (`hello`), who else uses the agent (`listClients`,
 * `disconnectClient`), and the agent's listening ports without this client's own listeners. On
 * an agent that shares this client's loopback (`sameNetwork`) it declares this client's
 * listeners, and again each time they change, so the agent leaves them out for every client.
 */
export class SessionApi extends Disposable {
	private readonly _onDidChangePorts = this._register(new Emitter<PortsChange>());
	/** `portsChanged` from the agent, checked, without this client's listeners. */
	readonly onDidChangePorts = this._onDidChangePorts.event;
	/** The last declaration sent (its JSON), and its answer. */
	private lastDeclared = '[]';
	private declaring: Promise<void> = Promise.resolve();
	private declareUnsupported = false;

	constructor(
		private readonly rpc: ClientRpc,
		private readonly own: OwnForwards,
		/** The agent's network identity (see `agentNetworkOf`). */
		readonly agentNetwork: string,
	) {
		super();
		this._register(
			rpc.onDidReceiveEvent((event) => {
				if (event.event === 'portsChanged') {
					this.portsChanged(event.data);
				}
			}),
		);
		if (this.sameNetwork) {
			this._register(own.onDidChange(() => this.declare()));
			this.declare();
		}
	}

	/** Whether the agent shares this client's loopback. */
	get sameNetwork(): boolean {
		return this.agentNetwork === this.own.network;
	}

	/** Says what this client calls itself; an agent that predates `hello` is not asked again. */
	async hello(name: string): Promise<void> {
		try {
			await this.rpc.request('hello', { name });
		} catch (error) {
			if (!(error instanceof BerthError && error.code === 'BERTH_ERR_RPC_UNKNOWN_METHOD')) {
				throw error;
			}
		}
	}

	/** The ports listening on the agent's host now, without this client's listeners. */
	async listeningPorts(): Promise<ListeningPort[]> {
		const result: unknown = await this.rpc.request('listeningPorts', {});
		const ports = parseListeningPorts(isObjectWithPorts(result) ? result.ports : undefined);
		return this.own.withoutOwnListeners(this.agentNetwork, ports);
	}

	/** The agent's clients now (this one marked `isSelf`). @throws BerthError BERTH_ERR_PROTOCOL for an answer that is not a list. */
	async listClients(): Promise<AgentClientInfo[]> {
		const result: unknown = await this.rpc.request('listClients', {});
		const clients = parseListClientsResult(result);
		if (!clients) {
			throw new BerthError(
				'BERTH_ERR_PROTOCOL',
				'the agent answered listClients with something that is not a client list',
			);
		}
		return clients;
	}

	/** Ends another client's session on the agent (it may come back: it is not banned). */
	async disconnectClient(id: string): Promise<void> {
		await this.rpc.request('disconnectClient', { id });
	}

	/** Resolves once the agent has this client's current listeners (at once when nothing is to declare). */
	declared(): Promise<void> {
		return this.declaring;
	}

	private declare(): void {
		if (this.declareUnsupported || this.isDisposed) {
			return;
		}
		const listeners = this.own.listenersOn(this.agentNetwork);
		const json = JSON.stringify(listeners);
		if (json === this.lastDeclared) {
			return;
		}
		this.lastDeclared = json;
		this.declaring = this.rpc.request('declareListeners', { listeners }).then(
			() => undefined,
			(error: unknown) => {
				if (error instanceof BerthError && error.code === 'BERTH_ERR_RPC_UNKNOWN_METHOD') {
					this.declareUnsupported = true; // an older agent: the client's own filter still applies
				} else if (!(error instanceof BerthError && error.code === 'BERTH_ERR_CLOSED')) {
					this.lastDeclared = `(failed: ${errorMessage(error)})`; // sent again at the next change
				}
			},
		);
	}

	private portsChanged(data: unknown): void {
		const change = parsePortsChanged(data);
		if (change) {
			this._onDidChangePorts.fire({
				added: this.own.withoutOwnListeners(this.agentNetwork, change.added),
				removed: change.removed,
			});
		}
	}
}

function isObjectWithPorts(value: unknown): value is { ports: unknown } {
	return typeof value === 'object' && value !== null && 'ports' in value;
}

/**
 * The first exchange on a new session: `hello` with the client's name (when it has one; sent
 * first, so the agent's client list has it as soon as the session is usable, and never a reason
 * to fail: a name is for people), then `serverInfo`.
 * @throws what `serverInfo` throws.
 */
export async function greetAgent(rpc: ClientRpc, clientName: string | undefined): Promise<ServerInfo> {
	const hello =
		clientName === undefined ? undefined : rpc.request('hello', { name: clientName }).catch(() => undefined);
	const info = await rpc.request('serverInfo', {});
	await hello;
	return info;
}
