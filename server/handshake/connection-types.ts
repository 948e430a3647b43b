import { BerthError } from '../../protocol/errors';
import type { IDisposable } from '../../protocol/lifecycle';
import type { Transport } from '../../protocol/transport';

/** A connection that passed authentication, handed to the handler of its connection type. */
export interface ConnectionRequest {
	readonly transport: Transport;
	/** Bytes that arrived after the connectionType message. The transport is paused: resume it once subscribed. */
	readonly leftover: Uint8Array[];
	/** The connectionType message's `args`, unvalidated. */
	readonly args: unknown;
	readonly reconnectionToken: string;
	readonly isReconnection: boolean;
	readonly remoteAddress: string;
	/** Who the client proved to be. */
	readonly principal: Principal;
}

/**
 * Who a client proved to be: the agent's owner (the connection token), or a connector (one of
 * relay mode's connector tokens, by id), whose streams go to the providers and nowhere else.
 */
export type Principal = { readonly role: 'owner' } | { readonly role: 'connector'; readonly tokenId: string };

/** Answers the client's handshake: `ok` (or whatever the type needs), or an error reason. */
export interface HandshakeReply {
	/** Sends `{type:"ok"}`. */
	ok(): void;
	/** Sends `{type:"error", reason}` and closes the connection. */
	refuse(reason: string): ConnectionOutcome;
}

/** What became of a connection, for the agent's one log line per connection. */
export type ConnectionOutcome =
	| { readonly type: 'accepted'; readonly detail?: string }
	| { readonly type: 'refused'; readonly reason: string };

/**
 * A connection type: VS Code's Management (1), ExtensionHost (2) and Tunnel (3), and Berth's Mux
 * (32); later features register theirs beside them.
 */
export interface ConnectionTypeHandler {
	readonly id: number;
	readonly name: string;
	/** Whether a connector (Principal) may open it; only Berth's stream sessions do. */
	readonly acceptsConnectors?: boolean;
	/** Takes over the connection. It must call `reply.ok()` or `reply.refuse()` exactly once. */
	accept(request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome>;
}

/** The connection types an agent serves, by `desiredConnectionType`. */
export class ConnectionTypeRegistry {
	private readonly handlers = new Map<number, ConnectionTypeHandler>();

	register(handler: ConnectionTypeHandler): IDisposable {
		if (this.handlers.has(handler.id)) {
			throw new BerthError('BERTH_ERR_INTERNAL', `connection type ${handler.id} is already registered`);
		}
		this.handlers.set(handler.id, handler);
		return { dispose: () => this.handlers.delete(handler.id) };
	}

	get(id: number): ConnectionTypeHandler | undefined {
		return this.handlers.get(id);
	}

	/** A name for logs: the handler's, or `type=<n>` for unknown ones. */
	nameOf(id: number): string {
		return this.handlers.get(id)?.name ?? `type=${id}`;
	}
}
