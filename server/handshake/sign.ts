import { createHmac } from 'node:crypto';
import { safeEqual } from '../connection-token';

/**
 * Berth's replacement for VS Code's closed-source `vsda` signer, used in both directions:
 *
 *     signedData = base64url(HMAC-SHA256(key = connection token as UTF-8, message = peer's data as UTF-8))
 *
 * Each side signs the other's fresh random challenge, so a captured signature cannot be replayed
 * on another connection, and a server that does not know the token cannot answer the client's.
 */
export function sign(token: string, data: string): string {
	return createHmac('sha256', Buffer.from(token, 'utf8')).update(data, 'utf8').digest('base64url');
}

/** Constant-time check of a signature made by `sign`. */
export function verifySignature(token: string, data: string, signedData: string): boolean {
	return safeEqual(sign(token, data), signedData);
}
