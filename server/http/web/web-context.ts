import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Timers } from '../../../protocol/timers';
import type { AgentKey } from '../../auth/agent-key';
import type { TokenStore } from '../../auth/token-store';
import type { UserTokens } from '../../auth/user-tokens';
import type { AuthAttempts, AuthThrottle } from '../../auth-throttle';
import type { ConnectionToken } from '../../connection-token';
import type { LogFields, Logger } from '../../shared/log';
import type { DeviceCodes } from './device-codes';
import type { WebSignIn } from './web-sign-in';
import type { WebSessions } from './web-sessions';

/** What the web pages are configured with (`berth server --accounts`: server-command.ts). */
export interface WebOptions {
	/** The owner's email (`--owner-email`, default `owner@` + the host name): the owner's tokens are issued to it. */
	readonly ownerEmail: string;
	/** An identity provider for users (OpenID Connect); without one only the owner signs in. */
	readonly signIn?: WebSignIn;
	/** Device codes' lifetime (RFC 8628 `expires_in`; tests shorten it). */
	readonly deviceCodeTtlMs?: number;
	/** The least time between polls (RFC 8628 `interval`; tests shorten it). */
	readonly devicePollIntervalMs?: number;
}

/** What the web pages' handlers share: the agent's accounts and the pages' own state. */
export interface WebContext {
	readonly options: WebOptions;
	readonly token: ConnectionToken;
	readonly timers: Timers;
	/** Wall clock (ms since 1970): token times. */
	readonly wallClock: () => number;
	readonly log: Logger;
	readonly tokens: UserTokens;
	readonly store: TokenStore;
	readonly agentKey: AgentKey;
	readonly sessions: WebSessions;
	readonly devices: DeviceCodes;
	/** Wrong user codes typed on /auth/device, per source address. */
	readonly codeGuesses: AuthThrottle;
	/** Device codes asked for, per source address (each takes one from the budget). */
	readonly deviceRequests: AuthThrottle;
	/** A line a peer can cause at will: logged within the agent's refusal budget. */
	readonly logRefusal: (message: string, fields: LogFields) => void;
}

/** One request to the web pages. */
export interface WebRequest {
	readonly req: IncomingMessage;
	readonly res: ServerResponse;
	readonly url: URL;
	/** `http(s)://host[:port]` as the browser reached the agent. */
	readonly origin: string;
	readonly secure: boolean;
	/** Connection-token guesses from this request's source (shared with the handshake and the API). */
	readonly attempts?: AuthAttempts;
}
