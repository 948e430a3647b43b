/**
 * The parts of an HTTP proxy request that Berth reads itself (Node's HTTP parser reads the rest):
 *
 *     CONNECT db.internal:5432 HTTP/1.1          the authority: host:port, IPv6 in brackets, port required
 *     GET http://example.com:8080/a?b HTTP/1.1   absolute-form: host, port (80 when absent), origin-form path
 *     Proxy-Authorization: Basic base64(user:pass)
 *     x-berth-config: idle=30s&via=box1          (proxy-config.ts)
 *
 * Pure and bounded: every input is cut before it is read.
 */

import { decodeUtf8 } from './bytes';
import { MAX_HOST_CHARS } from './mux-frames';

/** Where a request goes. */
export interface ProxyTarget {
	readonly host: string;
	readonly port: number;
}

/** The header that carries per-connection config on CONNECT (proxy-config.ts). */
export const CONFIG_HEADER = 'x-berth-config';
/** The realm in `Proxy-Authenticate`. */
export const PROXY_REALM = 'berth';

/** Longest request target read. */
const MAX_TARGET_CHARS = 8 * 1024;
/** Longest Basic credentials read (base64). */
const MAX_CREDENTIALS_CHARS = 2 * 1024;

const HOST_PATTERN = /^[A-Za-z0-9._~%!$&'()*+,;=-]+$/;

/** `host:port` of a CONNECT request; undefined (a 400) if it is not one. */
export function parseAuthority(text: string): ProxyTarget | undefined {
	if (text.length === 0 || text.length > MAX_HOST_CHARS + 8) {
		return undefined;
	}
	let host: string;
	let portText: string;
	if (text.startsWith('[')) {
		const close = text.indexOf(']');
		if (close < 0 || text[close + 1] !== ':') {
			return undefined;
		}
		host = text.slice(1, close);
		portText = text.slice(close + 2);
		if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) {
			return undefined;
		}
	} else {
		const colon = text.lastIndexOf(':');
		if (colon <= 0) {
			return undefined;
		}
		host = text.slice(0, colon);
		portText = text.slice(colon + 1);
		if (!HOST_PATTERN.test(host)) {
			return undefined;
		}
	}
	const port = parsePort(portText);
	return port === undefined ? undefined : { host, port };
}

/**
 * An absolute-form target (`http://host[:port]/path`): where it goes, and the origin-form path to
 * send there. Only `http:` (an `https:` request goes through CONNECT). Undefined: not one.
 */
export function parseAbsoluteTarget(text: string): (ProxyTarget & { readonly path: string }) | undefined {
	if (text.length > MAX_TARGET_CHARS || !/^http:\/\//i.test(text)) {
		return undefined;
	}
	const rest = text.slice('http://'.length);
	const slash = rest.search(/[/?#]/);
	const authority = slash < 0 ? rest : rest.slice(0, slash);
	let path = slash < 0 ? '/' : rest.slice(slash);
	if (path.startsWith('?')) {
		path = '/' + path;
	}
	const hashAt = path.indexOf('#');
	if (hashAt >= 0) {
		path = path.slice(0, hashAt);
	}
	if (authority.includes('@')) {
		return undefined; // credentials in a URL: refused, as browsers do
	}
	const hasPort = authority.startsWith('[') ? /\]:\d+$/.test(authority) : authority.includes(':');
	const target = parseAuthority(hasPort ? authority : `${authority}:80`);
	return target ? { ...target, path } : undefined;
}

/** `Proxy-Authorization: Basic …` read into a username and password; undefined if it is not one. */
export function parseBasicCredentials(value: string): { username: string; password: string } | undefined {
	const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value.slice(0, MAX_CREDENTIALS_CHARS));
	const bytes = match ? decodeBase64(match[1]!) : undefined;
	if (!bytes) {
		return undefined;
	}
	const text = decodeUtf8(bytes);
	const colon = text.indexOf(':');
	return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function parsePort(text: string): number | undefined {
	if (!/^\d{1,5}$/.test(text)) {
		return undefined;
	}
	const port = Number(text);
	return port >= 1 && port <= 65_535 ? port : undefined;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (padding optional) to bytes; undefined if it is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
	const clean = text.replace(/=+$/, '');
	if (clean.length % 4 === 1 || !/^[A-Za-z0-9+/]*$/.test(clean)) {
		return undefined;
	}
	const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
	let bits = 0;
	let value = 0;
	let at = 0;
	for (const char of clean) {
		value = (value << 6) | BASE64_ALPHABET.indexOf(char);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[at++] = (value >> bits) & 0xff;
		}
	}
	return out;
}
