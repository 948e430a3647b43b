import { BerthError } from '../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../protocol/lifecycle';
import type { AgentClientInfo, ClientListener, ForwardInfo, ListeningPort } from '../protocol/rpc';
import type { Principal } from './handshake/connection-types';

/** What a session (Management or stream) tells the registry about itself. */
export interface ClientSession {
	/** `session#3` or `streams#5`: the id the agent's log lines use too. */
	readonly id: string;
	readonly kind: AgentClientInfo['kind'];
	/** When it started, ms since 1970 (wall clock: shown to people, compared across hosts). */
	readonly since: number;
	/** The peer's `host:port` now (a Management session's changes when it reconnects). */
	address(): string;
	/** Whether a socket is attached (a Management session may be waiting for its client). */
	isConnected(): boolean;
	/** Its reverse forwards (stream sessions; none for Management). */
	forwards(): readonly ForwardInfo[];
	/** Streams open in it now. */
	streams(): number;
	/** Who the client proved to be. */
	readonly principal: Principal;
	/** The name the client gave its session (`--session-name`), shown beside its user. */
	readonly sessionName?: string;
	/** Ends the session, with a Disconnect to the client when it is connected. */
	disconnect(): void;
	/** Ends the session for its principal's sake (a revoked or expired token), telling the client why. */
	cut(reason: string): void;
}

/** A session's own entry in the registry: what its RPC handlers change. Disposed with the session. */
export interface ClientHandle extends IDisposable {
	readonly id: string;
	/** What the client calls itself (`hello`). */
	setName(name: string): void;
	/** The listeners the client holds on the agent's loopback (`declareListeners`), the whole set. */
	declareListeners(listeners: readonly ClientListener[]): void;
}

interface ClientEntry {
	readonly session: ClientSession;
	name: string | undefined;
	listeners: readonly ClientListener[];
}

/**
 * Every client session of the agent, for "who is using my tunnel" (`listClients`,
 * `disconnectClient`) and for the listeners clients on the agent's loopback declare as their own:
 * the union of every session's declared listeners is left out of the listening ports that every
 * session sees, and a session's declarations go with it.
 */
export class AgentClients extends Disposable {
	private readonly entries = new Map<string, ClientEntry>();
	private readonly _onDidRename = this._register(new Emitter<void>());
	/** A client named itself (comings and goings are the sessions' own counts). */
	readonly onDidRename = this._onDidRename.event;
	private readonly _onDidChangeListeners = this._register(new Emitter<void>());
	/** The union of declared listeners changed. */
	readonly onDidChangeListeners = this._onDidChangeListeners.event;
	/** `host|port` of every declared listener, rebuilt when a declaration changes. */
	private declared = new Set<string>();

	/** Registers a session; dispose the handle when the session ends. */
	add(session: ClientSession): ClientHandle {
		const entry: ClientEntry = { session, name: undefined, listeners: [] };
		this.entries.set(session.id, entry);
		let removed = false;
		return {
			id: session.id,
			setName: (name) => {
				if (!removed && entry.name !== name) {
					entry.name = name;
					this._onDidRename.fire();
				}
			},
			declareListeners: (listeners) => {
				if (!removed) {
					entry.listeners = listeners;
					this.rebuildDeclared();
				}
			},
			dispose: () => {
				if (removed) {
					return;
				}
				removed = true;
				this.entries.delete(session.id);
				if (entry.listeners.length > 0) {
					this.rebuildDeclared();
				}
			},
		};
	}

	/** The connected clients, as `listClients` answers `selfId`. */
	list(selfId: string): AgentClientInfo[] {
		const out: AgentClientInfo[] = [];
		for (const { session, name } of this.entries.values()) {
			if (!session.isConnected()) {
				continue;
			}
			const principal = session.principal;
			out.push({
				id: session.id,
				kind: session.kind,
				address: session.address(),
				...(name !== undefined ? { name } : {}),
				...(principal.role === 'user' ? { user: principal.user.email } : {}),
				...(session.sessionName !== undefined ? { sessionName: session.sessionName } : {}),
				since: session.since,
				forwards: [...session.forwards()],
				streams: session.streams(),
				isSelf: session.id === selfId,
			});
		}
		return out;
	}

	/**
	 * Ends another client's session. It is not banned: a client that reconnects gets a new
	 * session (Berth's own clients do so at once, as after any other drop).
	 * @throws BerthError BERTH_ERR_USAGE for an unknown id or the asking session itself.
	 */
	disconnect(id: string, selfId: string): void {
		const entry = this.entries.get(id);
		if (!entry || !entry.session.isConnected()) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`disconnectClient: no client ${JSON.stringify(id)} is connected`,
			);
		}
		if (id === selfId) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`disconnectClient: ${id} is the session asking; a client ends its own session by closing it`,
			);
		}
		entry.session.disconnect();
	}

	/**
	 * Ends every session (connected, or waiting for its client in its grace time) whose principal
	 * `matches`, telling each why. Returns how many ended.
	 */
	cut(matches: (principal: Principal) => boolean, reason: string): number {
		const doomed = [...this.entries.values()].filter((entry) => matches(entry.session.principal));
		for (const entry of doomed) {
			entry.session.cut(reason);
		}
		return doomed.length;
	}

	/** How many sessions (connected or waiting for their client) have a principal that `matches`. */
	count(matches: (principal: Principal) => boolean): number {
		let count = 0;
		for (const entry of this.entries.values()) {
			if (matches(entry.session.principal)) {
				count++;
			}
		}
		return count;
	}

	/** Whether a listening port is a client's declared listener (Berth's, not the user's service). */
	isDeclared(port: Pick<ListeningPort, 'host' | 'port'>): boolean {
		return this.declared.has(listenerKey(port.host, port.port));
	}

	private rebuildDeclared(): void {
		const next = new Set<string>();
		for (const entry of this.entries.values()) {
			for (const listener of entry.listeners) {
				next.add(listenerKey(listener.host, listener.port));
			}
		}
		if (!sameSet(next, this.declared)) {
			this.declared = next;
			this._onDidChangeListeners.fire();
		}
	}
}

function listenerKey(host: string, port: number): string {
	return `${host.toLowerCase()}|${port}`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
	return a.size === b.size && [...a].every((item) => b.has(item));
}
