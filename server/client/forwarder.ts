import type { Event } from '../../protocol/lifecycle';
import type { AddForwardParams, ForwardInfo } from '../../protocol/rpc';
import type { LocalForwardSpec } from './forward-spec';

/** One forwarded connection that failed: which forward, and why (`connect ECONNREFUSED …`). */
export interface ForwardFailure {
	readonly id: string;
	readonly message: string;
}

/**
 * The forwards of one client against one agent: what the CLI and the extension use. Both local
 * (-L) and remote (-R) forwards appear in one list with live counters; `onDidChange` fires when
 * one is added, fails, ends (state `closed`, then it leaves the list) or its counters move.
 */
export interface Forwarder {
	readonly onDidChange: Event<ForwardInfo>;
	/** A forwarded connection failed (the forward itself goes on). */
	readonly onDidFailConnection: Event<ForwardFailure>;
	list(): ForwardInfo[];
	/**
	 * Listens locally and carries each connection to spec.host:spec.port from the agent's side.
	 * Local port 0 picks one, never a port this client's forwards lead to.
	 * @throws BerthError BERTH_ERR_LOOP when the forward would reach its own listener or another of
	 *   this client's (or listen where one of its forwards leads); BERTH_ERR_LISTEN when the local
	 *   port cannot be opened.
	 */
	addLocal(spec: LocalForwardSpec): Promise<ForwardInfo>;
	/**
	 * Has the agent listen and carry each connection back to params.target* on this side.
	 * @throws BerthError BERTH_ERR_LOOP as addLocal does.
	 */
	addRemote(params: AddForwardParams): Promise<ForwardInfo>;
	remove(id: string): Promise<void>;
	dispose(): void;
}
