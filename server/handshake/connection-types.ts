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
 * Who a client proved to be: the agent's owner (the connection token), a connector (one of
 * relay mode's connector tokens, by id), whose streams go to the providers and nowhere else, or a
 * user (a user token the agent issued, with `--accounts`).
 */
export type Principal =
	| { readonly role: 'owner' }
	| { readonly role: 'connector'; readonly tokenId: string }
	| { readonly role: 'user'; readonly user: AuthenticatedUser };

/** A user token's holder, as the agent verified it. */
export interface AuthenticatedUser {
	readonly userId: string;
	readonly email: string;
	/** The token's id (its `jti`): what revocation and the log name. */
	readonly tokenId: string;
	/** `client` (forwards and proxies), `provider` or `connector` (relay mode's roles). */
	readonly role: 'client' | 'provider' | 'connector';
	/** When the token expires, ms since 1970: its sessions are cut then. */
	readonly expiresAt: number;
}

/** Whether two principals are the same holder (an owner's sessions, or one user's). */
export function samePrincipal(a: Principal, b: Principal): boolean {
	switch (a.role) {
		case 'owner':
			return b.role === 'owner';
		case 'connector':
			return b.role === 'connector' && b.tokenId === a.tokenId;
		case 'user':
			return b.role === 'user' && b.user.userId === a.user.userId;
	}
}

/** The connector token id a principal's streams are bound to, when it is a connector (of either kind). */
export function connectorTokenOf(principal: Principal): string | undefined {
	if (principal.role === 'connector') {
		return principal.tokenId;
	}
	return principal.role === 'user' && principal.user.role === 'connector'
		? principal.user.tokenId
		: undefined;
}

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
	/** Whether a user (a user token) may open it: Berth's stream sessions and Management do. */
	readonly acceptsUsers?: boolean;
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
