/** base64url (RFC 4648 §5, no padding) for neutral code: Node's Buffer and browsers' btoa are not here. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Bytes to base64url text, without padding. */
export function encodeBase64url(bytes: Uint8Array): string {
	let out = '';
	let bits = 0;
	let value = 0;
	for (const byte of bytes) {
		value = ((value << 8) | byte) & 0xffff;
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out += ALPHABET[(value >> bits) & 0x3f];
		}
	}
	return bits > 0 ? out + ALPHABET[(value << (6 - bits)) & 0x3f] : out;
}

/**
 * base64url text (unpadded, as JWTs and init URLs carry it) to bytes; undefined when it is not
 * base64url: another character, padding, or a length no encoding has (4n + 1).
 */
export function decodeBase64url(text: string): Uint8Array | undefined {
	if (!BASE64URL.test(text) || text.length % 4 === 1) {
		return undefined;
	}
	const out = new Uint8Array(Math.floor((text.length * 3) / 4));
	let bits = 0;
	let value = 0;
	let at = 0;
	for (const char of text) {
		value = ((value << 6) | ALPHABET.indexOf(char)) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[at++] = (value >> bits) & 0xff;
		}
	}
	return out;
}
