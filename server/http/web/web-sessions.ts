import { randomBytes } from 'node:crypto';
import type { Timers } from '../../../protocol/timers';

/**
 * Browser sessions of the agent's web pages (/tokens, /auth/device), in memory. The browser holds
 * a random id in a cookie (session-cookie.ts), never a token; the id maps to the signed-in user
 * and the session's CSRF token. A session lasts WEB_SESSION_TTL_MS from sign-in, and ends on
 * sign-out or when the agent stops. At most MAX_WEB_SESSIONS are kept: past it the oldest ends.
 * Every session has the same lifetime, so the oldest is also the first to expire: expired ones
 * are dropped when met, and from the front on each sign-in, without any timer.
 */

/** How long a browser session lasts: 12 hours. */
export const WEB_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Browser sessions kept at once (about 300 B each); past it the oldest ends. */
export const MAX_WEB_SESSIONS = 1_024;
/** Random bytes in a session id and in a CSRF token (256 bits). */
const SECRET_BYTES = 32;

/** Who signed in. */
export interface WebUser {
	/** In lowercase, as tokens are issued to it. */
	readonly email: string;
	/** The token store's user id for the email (TokenStore.userIdFor). */
	readonly userId: string;
	/** Signed in with the connection token: sees and manages every user's tokens, approves for anyone. */
	readonly isOwner: boolean;
}

export interface WebSession extends WebUser {
	/** The cookie's value. */
	readonly id: string;
	/** The token every form of this session carries (csrf.ts). */
	readonly csrf: string;
	/** On `timers.now()`'s clock. */
	readonly expiresAt: number;
}

export interface WebSessionsOptions {
	readonly timers: Timers;
	readonly ttlMs?: number;
	readonly max?: number;
	/** Makes ids and CSRF tokens (random by default). */
	readonly newSecret?: () => string;
}

export class WebSessions {
	/** Oldest first (the Map's order). */
	private readonly sessions = new Map<string, WebSession>();
	private readonly ttlMs: number;
	private readonly max: number;
	private readonly newSecret: () => string;

	constructor(private readonly options: WebSessionsOptions) {
		this.ttlMs = options.ttlMs ?? WEB_SESSION_TTL_MS;
		this.max = options.max ?? MAX_WEB_SESSIONS;
		this.newSecret = options.newSecret ?? (() => randomBytes(SECRET_BYTES).toString('base64url'));
	}

	/** Sessions kept now. */
	get size(): number {
		return this.sessions.size;
	}

	/** A new session for `user`, with a fresh id (never one the browser had before: no fixation). */
	create(user: WebUser): WebSession {
		this.dropExpired();
		while (this.sessions.size >= this.max) {
			this.sessions.delete(this.sessions.keys().next().value as string);
		}
		const session: WebSession = {
			id: this.newSecret(),
			csrf: this.newSecret(),
			email: user.email,
			userId: user.userId,
			isOwner: user.isOwner,
			expiresAt: this.options.timers.now() + this.ttlMs,
		};
		this.sessions.set(session.id, session);
		return session;
	}

	/** The live session with this id, or undefined (none, ended, expired). */
	get(id: string | undefined): WebSession | undefined {
		if (id === undefined) {
			return undefined;
		}
		const session = this.sessions.get(id);
		if (session && session.expiresAt <= this.options.timers.now()) {
			this.sessions.delete(id);
			return undefined;
		}
		return session;
	}

	/** Ends a session (sign-out). */
	delete(id: string): void {
		this.sessions.delete(id);
	}

	private dropExpired(): void {
		const now = this.options.timers.now();
		for (const [id, session] of this.sessions) {
			if (session.expiresAt > now) {
				return;
			}
			this.sessions.delete(id);
		}
	}
}
