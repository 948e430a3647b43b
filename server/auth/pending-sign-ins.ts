import { Disposable, type IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';

/** How long a browser has to come back from the provider (10 min, as the provider's own login takes). */
export const SIGN_IN_TTL_MS = 10 * 60_000;
/**
 * Sign-ins waiting for their callback at once (256). A 257th pushes out the oldest: a flood of
 * starts costs bounded memory, and the agent keeps answering new ones.
 */
export const MAX_PENDING_SIGN_INS = 256;

/** What the agent remembers between sending a browser to the provider and its coming back. */
export interface PendingSignIn {
	/** The authorization request's `state`, which the callback must carry back. */
	readonly state: string;
	/** The ID token's expected `nonce`. */
	readonly nonce: string;
	/** PKCE's secret half: only the agent knows it, so a stolen code is useless elsewhere. */
	readonly codeVerifier: string;
	/** Exactly the redirect URI of the authorization request (the token request repeats it). */
	readonly redirectUri: string;
	/** The cookie that ties the sign-in to the browser that started it: its name and value. */
	readonly cookieName: string;
	readonly cookieValue: string;
	/** Where the browser goes once signed in: a path on the agent. */
	readonly returnTo: string;
}

/**
 * The sign-ins started and not yet finished, by `state`: each is taken once (a replayed callback
 * finds nothing), expires after SIGN_IN_TTL_MS on the injected clock, and at most
 * MAX_PENDING_SIGN_INS wait at once. Held only in memory: a restart of the agent forgets them,
 * and the user starts again.
 */
export class PendingSignIns extends Disposable {
	private readonly entries = new Map<
		string,
		{ readonly signIn: PendingSignIn; readonly expiry: IDisposable }
	>();

	constructor(
		private readonly timers: Timers,
		private readonly ttlMs = SIGN_IN_TTL_MS,
		private readonly max = MAX_PENDING_SIGN_INS,
	) {
		super();
		this._register({ dispose: () => this.clear() });
	}

	/** How many wait now. */
	get size(): number {
		return this.entries.size;
	}

	/** Remembers a new sign-in, pushing out the oldest when MAX_PENDING_SIGN_INS wait already. */
	add(signIn: PendingSignIn): void {
		if (this.isDisposed) {
			return;
		}
		while (this.entries.size >= this.max) {
			const oldest = this.entries.keys().next().value as string;
			this.remove(oldest);
		}
		const expiry = this.timers.timeout(() => this.remove(signIn.state), this.ttlMs);
		this.entries.set(signIn.state, { signIn, expiry });
	}

	/** The sign-in started with `state`, removed so that it cannot be used again; undefined if none. */
	take(state: string): PendingSignIn | undefined {
		const entry = this.entries.get(state);
		if (entry) {
			this.remove(state);
		}
		return entry?.signIn;
	}

	private remove(state: string): void {
		this.entries.get(state)?.expiry.dispose();
		this.entries.delete(state);
	}

	private clear(): void {
		for (const state of [...this.entries.keys()]) {
			this.remove(state);
		}
	}
}
