import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../../protocol/errors';
import { agentKeyFingerprint } from '../shared/agent-key-proof';
import { writeSecretFile } from '../stored-secret';

/** The file beside the connection token that keeps the agent's key (PKCS#8 PEM, 0600). */
export const AGENT_KEY_FILE = 'agent-key.pem';

/**
 * The agent's own identity: an Ed25519 key pair made once and kept in Berth's folder. A client
 * that holds a user token (a bearer token, which the agent could not have known in advance) has
 * nothing shared to check the agent with; instead the agent signs the client's challenge with this
 * key, and a client that pinned the key's fingerprint (from its init URL) refuses any other agent.
 */
export class AgentKey {
	private constructor(
		private readonly privateKey: KeyObject,
		/** The raw public key, base64url (what the handshake's `sign` carries). */
		readonly publicKey: string,
	) {}

	/** `SHA256:…`, what init URLs pin. */
	get fingerprint(): string {
		return agentKeyFingerprint(this.publicKey);
	}

	/** The agent's proof for a challenge: base64url Ed25519 signature. */
	sign(challenge: string): string {
		return sign(null, Buffer.from(challenge, 'utf8'), this.privateKey).toString('base64url');
	}

	/**
	 * The key in `<configDir>/agent-key.pem`, made (0600) when there is none.
	 * @throws BerthError BERTH_ERR_TOKEN when the file is there but is not an Ed25519 private key.
	 */
	static loadOrCreate(configDir: string): AgentKey {
		const path = join(configDir, AGENT_KEY_FILE);
		if (!existsSync(path)) {
			const { privateKey } = generateKeyPairSync('ed25519');
			writeSecretFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
			return AgentKey.from(privateKey);
		}
		try {
			const privateKey = createPrivateKey(readFileSync(path));
			if (privateKey.asymmetricKeyType !== 'ed25519') {
				throw new Error(`an ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
			}
			return AgentKey.from(privateKey);
		} catch (error) {
			throw new BerthError(
				'BERTH_ERR_TOKEN',
				`the agent key ${path} cannot be used (${errorMessage(error)}): delete it to have a new one made ` +
					'(clients that pinned the old one will then refuse this agent until they log in again)',
			);
		}
	}

	/** A key made in memory (tests, and agents without a config folder). */
	static generate(): AgentKey {
		return AgentKey.from(generateKeyPairSync('ed25519').privateKey);
	}

	private static from(privateKey: KeyObject): AgentKey {
		const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
		return new AgentKey(privateKey, String(jwk.x));
	}
}
