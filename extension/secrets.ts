import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

const LOCAL_TOKEN_KEY = 'berth.localAgent.token';
const AGENT_TOKEN_PREFIX = 'berth.agent.token:';
/** Bytes of randomness in a generated token (base64url: letters, digits, '-' and '_', as agents require). */
const TOKEN_BYTES = 32;

/**
 * Connection tokens in VS Code's SecretStorage: the local agent's (generated once) and one per
 * remote agent URL. Every token it has handed out is remembered for log redaction.
 */
export class Secrets {
	private readonly known = new Set<string>();

	constructor(private readonly storage: vscode.SecretStorage) {}

	/** Tokens to mask in logs. */
	get knownTokens(): readonly string[] {
		return [...this.known];
	}

	/** The local agent's token, created and stored on first use. */
	async localAgentToken(): Promise<string> {
		let token = await this.storage.get(LOCAL_TOKEN_KEY);
		if (!token || !/^[0-9A-Za-z_-]+$/.test(token)) {
			token = randomBytes(TOKEN_BYTES).toString('base64url');
			await this.storage.store(LOCAL_TOKEN_KEY, token);
		}
		this.known.add(token);
		return token;
	}

	async agentToken(agentId: string): Promise<string | undefined> {
		const token = await this.storage.get(AGENT_TOKEN_PREFIX + agentId);
		if (token) {
			this.known.add(token);
		}
		return token;
	}

	async storeAgentToken(agentId: string, token: string): Promise<void> {
		this.known.add(token);
		await this.storage.store(AGENT_TOKEN_PREFIX + agentId, token);
	}

	async deleteAgentToken(agentId: string): Promise<void> {
		await this.storage.delete(AGENT_TOKEN_PREFIX + agentId);
	}
}
