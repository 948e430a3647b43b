import { createHash, createPublicKey, verify } from 'node:crypto';

/** Length of an Ed25519 public key, raw (bytes). */
const ED25519_PUBLIC_KEY_BYTES = 32;

/**
 * An agent key's fingerprint, as an init URL's `k` pins it and as `berth server` prints it:
 * `SHA256:` and the base64url of the SHA-256 of the raw public key (like ssh's, URL-safe).
 */
export function agentKeyFingerprint(publicKey: string): string {
	return `SHA256:${createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url')}`;
}

/**
 * Whether `signature` (base64url) is the Ed25519 signature of `challenge` by `publicKey` (the
 * base64url of its raw 32 bytes, as the handshake's `sign` message carries it). A key that is
 * not one is simply a failed check.
 */
export function verifyAgentKeyProof(publicKey: string, challenge: string, signature: string): boolean {
	const raw = Buffer.from(publicKey, 'base64url');
	if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
		return false;
	}
	try {
		const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
		return verify(null, Buffer.from(challenge, 'utf8'), key, Buffer.from(signature, 'base64url'));
	} catch {
		return false;
	}
}
