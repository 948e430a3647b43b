import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Berth's replacement for VS Code's closed-source `vsda` signer, used in both directions:
 *
 *     signedData = base64url(HMAC-SHA256(key = connection token as UTF-8, message = peer's data as UTF-8))
 *
 * Each side signs the other's fresh random challenge, so a captured signature cannot be replayed
 * on another connection. In VS Code's handshake the client sends the token itself first, so the
 * agent's signature proves only that it speaks Berth's handshake, not that it knew the token
 * beforehand: an impostor that received the token can sign too (docs/ARCHITECTURE.md, "What the
 * handshake proves").
 */
export function sign(token: string, data: string): string {
	return createHmac('sha256', Buffer.from(token, 'utf8')).update(data, 'utf8').digest('base64url');
}

/** Constant-time check of a signature made by `sign`. */
export function verifySignature(token: string, data: string, signedData: string): boolean {
	return safeEqual(sign(token, data), signedData);
}

/** Constant-time string comparison (for tokens and signatures): no early exit on the first difference. */
export function safeEqual(a: string, b: string): boolean {
	const left = Buffer.from(a, 'utf8');
	const right = Buffer.from(b, 'utf8');
	return left.length === right.length && timingSafeEqual(left, right);
}
