import { HandshakeReason } from '../../protocol/errors';
import { Disposable, Emitter, type Event, type IDisposable } from '../../protocol/lifecycle';
import type { Logger } from '../shared/log';
import {
	samePrincipal,
	type ConnectionOutcome,
	type ConnectionRequest,
	type HandshakeReply,
	type Principal,
} from '../handshake/connection-types';

/** How many reconnection tokens are remembered as "seen before" after their session ended. */
const MAX_SEEN_TOKENS = 10_000;
/**
 * Sessions of one kind waiting for their clients at once (each holds its state, and up to its
 * unacknowledged bound to replay); past it the one waiting longest ends. VS Code has no bound: a
 * client that opens and drops sessions in a loop would otherwise grow the agent for the whole
 * grace time.
 */
export const MAX_WAITING_SESSIONS = 256;

/** What the table needs of a session that outlives its sockets. */
export interface ResumableSession extends IDisposable {
	/** `session#3`, `streams#5`: the number in its log name. */
	readonly number: number;
	readonly principal: Principal;
	/** Whether a socket is attached. */
	readonly isConnected: boolean;
	/** The session gained or lost its socket. */
	readonly onDidChangeConnection: Event<void>;
	/** The session is over (the client ended it, the grace ran out, the agent stopped). */
	readonly onDidEnd: Event<void>;
	/** Takes the socket of a connection that passed the handshake (`reply.ok()` was sent). */
	attach(request: ConnectionRequest): void;
	/** Another client of the same holder connected: a running wait becomes the short grace. */
	shortenGrace(): void;
}

export interface ResumableSessionsOptions<S extends ResumableSession> {
	readonly log: Logger;
	/** `session` or `streams`: how the log names this kind's sessions. */
	readonly kind: string;
	readonly maxWaiting?: number;
	/**
	 * A new session (not a resumed one) shortens the waits of its holder's other sessions of this
	 * kind. Management leaves it to the agent, which shortens on every authenticated connection as
	 * VS Code does.
	 */
	readonly shortenOnNewSession?: boolean;
	/** A new session (the handshake has answered ok), not yet attached. */
	readonly create: (number: number, token: string, request: ConnectionRequest) => S;
}

/**
 * Sessions keyed by reconnection token that outlive their sockets (Management, and Berth's stream
 * sessions). A new connection with a token in use is refused; `reconnection=true` with the same
 * token and the same holder resumes its session, replaying what either side missed; refusals use
 * VS Code's reason strings (an unknown token: the agent restarted, or the session's grace ran
 * out). At most `maxWaiting` sessions wait at once: past it, the one that has waited longest
 * ends, as its client is the least likely to come back.
 */
export class ResumableSessions<S extends ResumableSession> extends Disposable {
	private readonly _onDidChangeCounts = this._register(new Emitter<void>());
	/** A session started, gained or lost its socket, or ended. */
	readonly onDidChangeCounts = this._onDidChangeCounts.event;
	private readonly live = new Map<string, S>();
	/** Sessions without a socket, the longest waiting first. */
	private readonly waiting = new Set<S>();
	private readonly seen = new Set<string>();
	private nextNumber = 1;

	constructor(private readonly options: ResumableSessionsOptions<S>) {
		super();
		this._register({
			dispose: () => {
				for (const session of [...this.live.values()]) {
					session.dispose();
				}
			},
		});
	}

	/** Every session, connected or waiting. */
	values(): IterableIterator<S> {
		return this.live.values();
	}

	/** Sessions with a socket, and sessions waiting for their client. */
	get counts(): { connected: number; waiting: number } {
		return { connected: this.live.size - this.waiting.size, waiting: this.waiting.size };
	}

	/** A connection of this kind passed authentication: start a session, or resume the one its token names. */
	accept(request: ConnectionRequest, reply: HandshakeReply): ConnectionOutcome {
		const token = request.reconnectionToken;
		const existing = this.live.get(token);
		if (!request.isReconnection) {
			if (existing) {
				return reply.refuse(HandshakeReason.DuplicateReconnectionToken);
			}
			reply.ok();
			if (this.options.shortenOnNewSession) {
				this.shortenGraces(request.principal);
			}
			const session = this.create(token, request);
			session.attach(request);
			return { type: 'accepted', detail: `${this.options.kind}#${session.number}` };
		}
		if (!existing) {
			return reply.refuse(
				this.seen.has(token)
					? HandshakeReason.UnknownReconnectionTokenSeenBefore
					: HandshakeReason.UnknownReconnectionTokenNeverSeen,
			);
		}
		if (!samePrincipal(existing.principal, request.principal)) {
			// Another holder's session: its reconnection token leaked, or was guessed. Not theirs.
			return reply.refuse(HandshakeReason.Unauthorized);
		}
		reply.ok();
		existing.attach(request);
		return { type: 'accepted', detail: `${this.options.kind}#${existing.number} resumed` };
	}

	/**
	 * Another client of the same holder passed the handshake: that holder's waiting sessions now
	 * wait only the short grace (another user's are not theirs to shorten).
	 */
	shortenGraces(principal: Principal): void {
		for (const session of this.live.values()) {
			if (samePrincipal(session.principal, principal)) {
				session.shortenGrace();
			}
		}
	}

	private create(token: string, request: ConnectionRequest): S {
		const session = this.options.create(this.nextNumber++, token, request);
		this.live.set(token, session);
		this.remember(token);
		const ended = session.onDidEnd(() => {
			ended.dispose();
			changed.dispose();
			this.live.delete(token);
			this.waiting.delete(session);
			this._onDidChangeCounts.fire();
		});
		const changed = session.onDidChangeConnection(() => {
			this.waiting.delete(session);
			if (!session.isConnected) {
				this.waiting.add(session);
				this.boundWaiting();
			}
			this._onDidChangeCounts.fire();
		});
		this._onDidChangeCounts.fire();
		return session;
	}

	/** Ends the sessions that have waited longest while more than `maxWaiting` wait. */
	private boundWaiting(): void {
		const max = this.options.maxWaiting ?? MAX_WAITING_SESSIONS;
		for (const oldest of this.waiting) {
			if (this.waiting.size <= max) {
				return;
			}
			this.options.log.warn('too many sessions waiting for their clients: ended the one waiting longest', {
				session: `${this.options.kind}#${oldest.number}`,
				maxWaiting: max,
			});
			oldest.dispose(); // its onDidEnd removes it from `waiting`
		}
	}

	private remember(token: string): void {
		this.seen.add(token);
		if (this.seen.size > MAX_SEEN_TOKENS) {
			this.seen.delete(this.seen.values().next().value as string);
		}
	}
}
