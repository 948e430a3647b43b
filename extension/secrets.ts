import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';
import { isClientToken } from '../protocol/client-token';
import { BerthError } from '../protocol/errors';
import { CONNECTION_TOKEN_PATTERN } from '../protocol/constants';
import { isObject } from '../protocol/guards';
import { isAgentKeyFingerprint } from '../protocol/init-url';
import { isSessionPrefix } from '../protocol/session-name';
import type { SshAgentToken, SshTokenStore } from '../server/client/index';

const LOCAL_TOKEN_KEY = 'berth.localAgent.token';
const AGENT_TOKEN_PREFIX = 'berth.agent.token:';
/** What came with a token from an init URL (its pin and session-name prefix), as JSON. */
const AGENT_LOGIN_PREFIX = 'berth.agent.login:';
/** The token of the agent this window started on an ssh host, and its build, as JSON (by sshHostKey). */
const SSH_TOKEN_PREFIX = 'berth.ssh.token:';
/** The longest build name kept with an ssh host's token (a commit, or a version when not built from git). */
const MAX_COMMIT_CHARS = 128;
/** Bytes of randomness in a generated token (base64url: letters, digits, '-' and '_', as agents require). */
const TOKEN_BYTES = 32;

/**
 * What this window presents to one remote agent: its token (a connection token, or a signed user
 * token from an init URL) and what the init URL said with it.
 */
export interface AgentLogin {
	/** Never logged. */
	readonly token: string;
	/** The agent key's fingerprint the init URL pinned (`k`): every dial checks it. */
	readonly agentKey?: string;
	/** The init URL's session-name prefix (`n`). */
	readonly sessionPrefix?: string;
}

/**
 * Tokens in VS Code's SecretStorage: the local agent's (generated once) and one login per remote
 * agent URL. A login's pin is kept beside its token, not in the workspace's saved state: it
 * protects that token wherever the token is used (every workspace of this user), and it goes
 * with it at Sign Out. Every token handed out is remembered for log redaction.
 */
export class Secrets {
	private readonly known = new Set<string>();

	constructor(private readonly storage: vscode.SecretStorage) {}

	/** Tokens to mask in logs. */
	get knownTokens(): readonly string[] {
		return [...this.known];
	}

	/** The local agent's connection token, created and stored on first use (or when the stored one is not one). */
	async localAgentToken(): Promise<string> {
		let token = await this.storage.get(LOCAL_TOKEN_KEY);
		if (!token || !CONNECTION_TOKEN_PATTERN.test(token)) {
			token = randomBytes(TOKEN_BYTES).toString('base64url');
			await this.storage.store(LOCAL_TOKEN_KEY, token);
		}
		this.known.add(token);
		return token;
	}

	/**
	 * The login saved for a remote agent; undefined when none, or when what is stored cannot be
	 * read (then the user signs in again rather than dial without the pin).
	 */
	async agentLogin(agentId: string): Promise<AgentLogin | undefined> {
		const token = await this.storage.get(AGENT_TOKEN_PREFIX + agentId);
		if (!token || !isClientToken(token)) {
			return undefined;
		}
		const details = parseLoginDetails(await this.storage.get(AGENT_LOGIN_PREFIX + agentId));
		if (details === undefined) {
			return undefined;
		}
		this.known.add(token);
		return { token, ...details };
	}

	/**
	 * Saves the login of a remote agent, replacing the previous one whole (a token typed without an
	 * init URL has no pin: the old token's pin does not apply to it).
	 * @throws BerthError BERTH_ERR_TOKEN for a token no agent would take (callers check what the user typed first).
	 */
	async storeAgentLogin(agentId: string, login: AgentLogin): Promise<void> {
		if (!isClientToken(login.token)) {
			throw new BerthError('BERTH_ERR_TOKEN', 'not a token: a connection token, or a signed user token');
		}
		this.known.add(login.token);
		await this.storage.store(AGENT_TOKEN_PREFIX + agentId, login.token);
		const details = formatLoginDetails(login);
		if (details === undefined) {
			await this.storage.delete(AGENT_LOGIN_PREFIX + agentId);
		} else {
			await this.storage.store(AGENT_LOGIN_PREFIX + agentId, details);
		}
	}

	/** Forgets the login of a remote agent (Sign Out). */
	async deleteAgentLogin(agentId: string): Promise<void> {
		await this.storage.delete(AGENT_TOKEN_PREFIX + agentId);
		await this.storage.delete(AGENT_LOGIN_PREFIX + agentId);
	}

	/**
	 * The tokens of the agents this window starts on ssh hosts (SshAgentTunnel's store), with the
	 * build each belongs to; what cannot be read counts as none (a new token is made).
	 */
	get sshTokens(): SshTokenStore {
		return {
			get: async (host) => {
				const value = parseSshAgentToken(await this.storage.get(SSH_TOKEN_PREFIX + host));
				if (value) {
					this.known.add(value.token);
				}
				return value;
			},
			set: async (host, value) => {
				this.known.add(value.token);
				await this.storage.store(SSH_TOKEN_PREFIX + host, JSON.stringify(value));
			},
			delete: async (host) => {
				await this.storage.delete(SSH_TOKEN_PREFIX + host);
			},
		};
	}
}

/** A stored ssh host's token back, checked; undefined when there is none or it cannot be read. */
export function parseSshAgentToken(text: string | undefined): SshAgentToken | undefined {
	const value = text === undefined ? undefined : parseStoredObject(text);
	if (!value) {
		return undefined;
	}
	const { commit, token } = value;
	if (
		typeof commit !== 'string' ||
		commit === '' ||
		commit.length > MAX_COMMIT_CHARS ||
		typeof token !== 'string' ||
		!CONNECTION_TOKEN_PATTERN.test(token)
	) {
		return undefined;
	}
	return { commit, token };
}

/** The stored details as JSON, or undefined when there are none. */
function formatLoginDetails(login: AgentLogin): string | undefined {
	if (login.agentKey === undefined && !login.sessionPrefix) {
		return undefined;
	}
	return JSON.stringify({
		...(login.agentKey !== undefined ? { k: login.agentKey } : {}),
		...(login.sessionPrefix ? { n: login.sessionPrefix } : {}),
	});
}

/**
 * Reads stored details back (none stored: none), each member checked as the init URL's was.
 * Undefined when they cannot be read: a pin is never silently dropped.
 */
export function parseLoginDetails(text: string | undefined): Omit<AgentLogin, 'token'> | undefined {
	if (text === undefined) {
		return {};
	}
	const value = parseStoredObject(text);
	if (!value) {
		return undefined;
	}
	const { k, n } = value;
	if ((k !== undefined && !isAgentKeyFingerprint(k)) || (n !== undefined && !isSessionPrefix(n))) {
		return undefined;
	}
	return {
		...(k !== undefined ? { agentKey: k } : {}),
		...(n !== undefined && n !== '' ? { sessionPrefix: n } : {}),
	};
}

/** A stored JSON object, or undefined when the text is not one (a store written by something else). */
function parseStoredObject(text: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(text);
		return isObject(value) ? value : undefined;
	} catch {
		return undefined;
	}
}
