import { randomUUID } from 'node:crypto';
import { BerthError } from '../protocol/errors';
import { Disposable, Emitter } from '../protocol/lifecycle';
import { verifySignature } from './shared/sign';
import { checkToken, MIN_AGENT_TOKEN_LENGTH } from './shared/token-rules';

/** One connector token: its id (for logs, the API and removal; never the token) and value. */
export interface ConnectorToken {
	readonly id: string;
	readonly value: string;
	/** Autonomy mode: the provider session that declared it (its connectors reach that provider only). */
	readonly owner?: string;
}

/** At most this many connector tokens at once: each handshake may try them all. */
export const MAX_CONNECTOR_TOKENS = 1_000;

/**
 * Relay mode's connector tokens (`berth server -r --connector-token-file F`): a client that
 * proves one of them (by signature, as the connection token is proved) is a connector: its
 * streams go to the providers, and it may do nothing else. Removing a token fires
 * `onDidRemove`, and the agent ends that connector's sessions at once.
 */
export class ConnectorTokens extends Disposable {
	private readonly tokens = new Map<string, ConnectorToken>();
	private readonly _onDidRemove = this._register(new Emitter<string>());
	/** A token was removed (its id): its connectors must go. */
	readonly onDidRemove = this._onDidRemove.event;

	/** @param reserved the agent's connection token: never a connector's (whoever proves it is the owner). */
	constructor(private readonly reserved?: string) {
		super();
	}

	get size(): number {
		return this.tokens.size;
	}

	/**
	 * Adds a token; returns its id.
	 * @throws BerthError BERTH_ERR_TOKEN for a token that breaks the rules (letters, digits, '-'
	 *   and '_', at least MIN_AGENT_TOKEN_LENGTH), one already added, or one too many.
	 */
	add(value: string, what: string, owner?: string): string {
		const token = checkToken(value, what, MIN_AGENT_TOKEN_LENGTH);
		if (token === this.reserved || [...this.tokens.values()].some((t) => t.value === token)) {
			// Said the same way whoever holds it: a provider learns nothing of another's tokens.
			throw new BerthError('BERTH_ERR_TOKEN', `${what} is already in use: choose another`);
		}
		if (this.tokens.size >= MAX_CONNECTOR_TOKENS) {
			throw new BerthError(
				'BERTH_ERR_TOKEN',
				`at most ${MAX_CONNECTOR_TOKENS} connector tokens: remove one first`,
			);
		}
		const id = randomUUID();
		this.tokens.set(id, { id, value: token, ...(owner !== undefined ? { owner } : {}) });
		return id;
	}

	/** Removes a token by id; false when there is none. */
	remove(id: string): boolean {
		if (!this.tokens.delete(id)) {
			return false;
		}
		this._onDidRemove.fire(id);
		return true;
	}

	/** The provider session that declared token `id` (autonomy mode), if any. */
	ownerOf(id: string): string | undefined {
		return this.tokens.get(id)?.owner;
	}

	has(id: string): boolean {
		return this.tokens.has(id);
	}

	ids(): string[] {
		return [...this.tokens.keys()];
	}

	/** Whether `value` is one of the tokens (an agent token must not double as a connector's). */
	includes(value: string): boolean {
		return [...this.tokens.values()].some((t) => t.value === value);
	}

	/** The token whose signature of `challenge` is `signed`, if any. */
	match(challenge: string, signed: string): ConnectorToken | undefined {
		for (const token of this.tokens.values()) {
			if (verifySignature(token.value, challenge, signed)) {
				return token;
			}
		}
		return undefined;
	}
}
