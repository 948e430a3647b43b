import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { MessageLimits } from '../../protocol/message-reader';
import { Session } from '../../protocol/session';
import type { Timers } from '../../protocol/timers';
import type { ConnectionRequest, Principal } from '../handshake/connection-types';
import { tokenPrefix, type Logger } from '../shared/log';
import { GraceTimer } from './grace-timer';
import type { ResumableSession } from './resumable-sessions';

export interface ResumableAgentSessionOptions {
	readonly timers: Timers;
	readonly limits: MessageLimits;
	/** How long the session waits for its client after its socket dropped. */
	readonly graceMs: number;
	/** The wait once another client of the same holder connected. */
	readonly shortGraceMs: number;
}

/**
 * The agent's end of a session that outlives its sockets (a Management or a stream session): the
 * protocol Session, the wait for the client after a drop, and the end (the client said
 * Disconnect, the grace ran out, the session failed, the agent stopped). Subclasses put their
 * lanes (RPC, streams) on `session`.
 */
export abstract class ResumableAgentSession extends Disposable implements ResumableSession {
	protected readonly session: Session;
	protected readonly log: Logger;
	private readonly grace: GraceTimer;
	/** The peer of the socket attached last. */
	private lastAddress = '?';
	private readonly _onDidChangeConnection = this._register(new Emitter<void>());
	readonly onDidChangeConnection = this._onDidChangeConnection.event;
	private readonly _onDidEnd = this._register(new Emitter<void>());
	readonly onDidEnd = this._onDidEnd.event;

	constructor(
		readonly number: number,
		token: string,
		readonly principal: Principal,
		log: Logger,
		options: ResumableAgentSessionOptions,
	) {
		super();
		this.log = log;
		this.session = this._register(new Session({ timers: options.timers, limits: options.limits }));
		this.grace = this._register(
			new GraceTimer({
				timers: options.timers,
				graceMs: options.graceMs,
				shortGraceMs: options.shortGraceMs,
				onExpire: () => {
					this.log.info('the client did not come back within the grace time; session ended');
					this.dispose();
				},
			}),
		);
		this._register(
			this.session.onDidLoseTransport((e) => {
				this.log.info('connection lost; waiting for the client to reconnect', {
					reason: e.reason,
					error: e.error?.message,
					graceSeconds: Math.round(options.graceMs / 1000),
					token: tokenPrefix(token),
				});
				this.grace.start();
				this._onDidChangeConnection.fire();
			}),
		);
		this._register(
			this.session.onDidReceiveDisconnect(() => {
				this.log.info('client disconnected');
				this.session.sendDisconnect();
				this.dispose();
			}),
		);
		this._register(
			this.session.onDidFail((error) => {
				this.log.warn('session failed', { error: error.message });
				this.dispose();
			}),
		);
	}

	get isConnected(): boolean {
		return this.session.isAttached;
	}

	/** The peer's `host:port` now (it changes when the client comes back from elsewhere). */
	get address(): string {
		return this.lastAddress;
	}

	attach(request: ConnectionRequest): void {
		const resumed = this.grace.isRunning;
		this.lastAddress = request.remoteAddress;
		this.grace.stop();
		this.session.attach(request.transport, request.leftover);
		request.transport.resume();
		if (resumed) {
			this.log.info('the client came back; session resumed', { address: request.remoteAddress });
		}
		this._onDidChangeConnection.fire();
	}

	shortenGrace(): void {
		const shortMs = this.grace.shorten();
		if (shortMs !== undefined) {
			this.log.info('another client connected; shortening the wait for reconnection', {
				graceSeconds: Math.round(shortMs / 1000),
			});
		}
	}

	/** Ends the session for good, with a Disconnect to the client when it is connected. */
	end(): void {
		this.session.sendDisconnect();
		this.dispose();
	}

	override dispose(): void {
		if (this.isDisposed) {
			return;
		}
		this._onDidEnd.fire();
		super.dispose();
	}
}
