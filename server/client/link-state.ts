import type { BerthError } from '../../protocol/errors';
import type { ServerInfo } from '../../protocol/rpc';

/**
 * Why a connection made while the link is down was given up (it waited, or there was no session
 * to open it on). It says nothing about the session itself, so a client that reports a lost
 * session gives the reason its streams were reset with, not this.
 */
export const UNREACHABLE_WHILE_RECONNECTING = 'the agent is unreachable (still reconnecting)';

/**
 * Where a link to an agent stands (a StreamForwarder's stream session): up, on its way back (the
 * wait before the next attempt, and why the last one failed), or failed for good (a refusal that
 * needs a human). `sameNetwork`: the agent shares this client's loopback
 * (its `serverInfo.network` equals this client's), so this client's own listeners are among its
 * listening ports, and a forward to one of its loopback ports could reach this client's listeners.
 */
export type LinkState =
	| {
			readonly type: 'connected';
			readonly info: ServerInfo;
			/** A new session replaced one the agent no longer held: its connections were lost. */
			readonly renewed: boolean;
			/** The same session came back on a new socket: no connection was lost. */
			readonly resumed?: boolean;
			readonly sameNetwork: boolean;
	  }
	| {
			readonly type: 'reconnecting';
			/** The session is held (its connections wait) and will be resumed; false: a new one is being opened. */
			readonly resuming?: boolean;
			readonly attempt: number;
			readonly delayMs: number;
			readonly lastError?: string;
	  }
	| { readonly type: 'failed'; readonly error: BerthError };
