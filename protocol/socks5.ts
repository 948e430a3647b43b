/**
 * SOCKS5 (RFC 1928) and its username/password sub-negotiation (RFC 1929), as pure parsers and
 * encoders over bytes. Each parser takes what has arrived so far and answers `incomplete` (read
 * more; the whole handshake fits in MAX_SOCKS5_HANDSHAKE_BYTES), `error` (with the reply to send,
 * where the protocol has one), or the message and how many bytes it used.
 *
 *     greeting   client → | VER 5 | NMETHODS 1..255 | METHODS…        |
 *     choice     proxy  → | VER 5 | METHOD (0 none, 2 user/pass, FF: none acceptable) |
 *     auth       client → | VER 1 | ULEN | UNAME… | PLEN | PASSWD…    |   (RFC 1929)
 *     auth reply proxy  → | VER 1 | STATUS (0 ok, else refused)       |
 *     request    client → | VER 5 | CMD | RSV 0 | ATYP | DST.ADDR | DST.PORT u16 BE |
 *     reply      proxy  → | VER 5 | REP | RSV 0 | ATYP | BND.ADDR | BND.PORT u16 BE |
 *     UDP        either → | RSV 0 0 | FRAG | ATYP | DST.ADDR | DST.PORT | DATA… |  (one datagram)
 *
 *     ATYP 1: IPv4, 4 bytes · 3: a domain name, 1 length byte then 1..255 bytes · 4: IPv6, 16 bytes
 */

import { decodeUtf8, encodeUtf8 } from './bytes';

export const SOCKS5_VERSION = 5;
const AUTH_VERSION = 1;

/** The most a whole SOCKS5 handshake can take (greeting 257 + auth 513 + request 262, rounded up). */
export const MAX_SOCKS5_HANDSHAKE_BYTES = 1536;

export enum SocksMethod {
	None = 0x00,
	UserPass = 0x02,
	NoAcceptable = 0xff,
}

export enum SocksCommand {
	Connect = 0x01,
	Bind = 0x02,
	UdpAssociate = 0x03,
}

/** RFC 1928's reply codes. */
export enum SocksReply {
	Succeeded = 0x00,
	GeneralFailure = 0x01,
	NotAllowed = 0x02,
	NetworkUnreachable = 0x03,
	HostUnreachable = 0x04,
	ConnectionRefused = 0x05,
	TtlExpired = 0x06,
	CommandNotSupported = 0x07,
	AddressTypeNotSupported = 0x08,
}

enum AddressType {
	IPv4 = 0x01,
	Domain = 0x03,
	IPv6 = 0x04,
}

/** A SOCKS address: an IP (as text) or a domain name, and a port. */
export interface SocksAddress {
	readonly host: string;
	readonly port: number;
	/** A name to resolve where the traffic leaves (`socks5h`), rather than an address. */
	readonly isDomain: boolean;
}

export type Parsed<T> =
	| { readonly type: 'incomplete' }
	| { readonly type: 'error'; readonly reason: string; readonly reply?: SocksReply }
	| { readonly type: 'done'; readonly value: T; readonly consumed: number };

const INCOMPLETE = { type: 'incomplete' } as const;

/** The client's methods. */
export function parseGreeting(bytes: Uint8Array): Parsed<readonly SocksMethod[]> {
	if (bytes.length < 2) {
		return INCOMPLETE;
	}
	if (bytes[0] !== SOCKS5_VERSION) {
		return { type: 'error', reason: `version ${bytes[0]} is not SOCKS5` };
	}
	const count = bytes[1]!;
	if (count === 0) {
		return { type: 'error', reason: 'the greeting offers no method' };
	}
	if (bytes.length < 2 + count) {
		return INCOMPLETE;
	}
	return { type: 'done', value: [...bytes.subarray(2, 2 + count)] as SocksMethod[], consumed: 2 + count };
}

/** The proxy's answer to the greeting. */
export function encodeMethodChoice(method: SocksMethod): Uint8Array {
	return Uint8Array.of(SOCKS5_VERSION, method);
}

/** RFC 1929's username and password (as UTF-8 text; names may be empty). */
export function parseUserPass(bytes: Uint8Array): Parsed<{ username: string; password: string }> {
	if (bytes.length < 2) {
		return INCOMPLETE;
	}
	if (bytes[0] !== AUTH_VERSION) {
		return { type: 'error', reason: `username/password version ${bytes[0]} is not 1` };
	}
	const userLength = bytes[1]!;
	if (bytes.length < 2 + userLength + 1) {
		return INCOMPLETE;
	}
	const passLength = bytes[2 + userLength]!;
	const end = 3 + userLength + passLength;
	if (bytes.length < end) {
		return INCOMPLETE;
	}
	return {
		type: 'done',
		value: {
			username: decodeUtf8(bytes.subarray(2, 2 + userLength)),
			password: decodeUtf8(bytes.subarray(3 + userLength, end)),
		},
		consumed: end,
	};
}

/** The proxy's answer to the username/password: 0 accepts, anything else refuses. */
export function encodeUserPassReply(accepted: boolean): Uint8Array {
	return Uint8Array.of(AUTH_VERSION, accepted ? 0x00 : 0x01);
}

/** The client's request: a command and where to. */
export function parseRequest(bytes: Uint8Array): Parsed<{ command: SocksCommand; address: SocksAddress }> {
	if (bytes.length < 4) {
		return INCOMPLETE;
	}
	if (bytes[0] !== SOCKS5_VERSION) {
		return { type: 'error', reason: `version ${bytes[0]} is not SOCKS5`, reply: SocksReply.GeneralFailure };
	}
	const address = parseAddress(bytes, 3);
	if (address.type !== 'done') {
		return address;
	}
	const command = bytes[1]!;
	if (
		command !== SocksCommand.Connect &&
		command !== SocksCommand.Bind &&
		command !== SocksCommand.UdpAssociate
	) {
		return {
			type: 'error',
			reason: `command ${command} is not SOCKS5's`,
			reply: SocksReply.CommandNotSupported,
		};
	}
	// UDP ASSOCIATE may name 0.0.0.0:0 (the client does not know its UDP address yet); a connect may not.
	if (command === SocksCommand.Connect && address.value.port === 0) {
		return { type: 'error', reason: 'port 0 is no destination', reply: SocksReply.GeneralFailure };
	}
	return { type: 'done', value: { command, address: address.value }, consumed: address.consumed };
}

/** The proxy's reply to a request, with the address it bound (0.0.0.0:0 when none applies). */
export function encodeReply(reply: SocksReply, bound: SocksAddress = UNSPECIFIED): Uint8Array {
	const address = encodeAddress(bound);
	const out = new Uint8Array(3 + address.length);
	out.set([SOCKS5_VERSION, reply, 0x00]);
	out.set(address, 3);
	return out;
}

/** The "nothing bound" address of a reply. */
export const UNSPECIFIED: SocksAddress = { host: '0.0.0.0', port: 0, isDomain: false };

/** One UDP datagram from the client: where it goes, and its data (a view). Fragments are refused. */
export function parseUdpDatagram(bytes: Uint8Array): Parsed<{ address: SocksAddress; data: Uint8Array }> {
	if (bytes.length < 4) {
		return { type: 'error', reason: 'a datagram shorter than its header' };
	}
	if (bytes[0] !== 0 || bytes[1] !== 0) {
		return { type: 'error', reason: 'a datagram whose reserved bytes are not zero' };
	}
	if (bytes[2] !== 0) {
		return { type: 'error', reason: 'fragmented datagrams are not supported' };
	}
	const address = parseAddress(bytes, 3);
	if (address.type !== 'done') {
		return {
			type: 'error',
			reason: address.type === 'error' ? address.reason : 'a truncated datagram header',
		};
	}
	if (address.value.port === 0) {
		return { type: 'error', reason: 'a datagram to port 0' };
	}
	return {
		type: 'done',
		value: { address: address.value, data: bytes.subarray(address.consumed) },
		consumed: bytes.length,
	};
}

/** A UDP datagram to the client: the header naming where it came from, then its data. */
export function encodeUdpDatagram(from: SocksAddress, data: Uint8Array): Uint8Array {
	const address = encodeAddress(from);
	const out = new Uint8Array(3 + address.length + data.length);
	out.set(address, 3);
	out.set(data, 3 + address.length);
	return out;
}

/** ATYP, address and port at `at`; `consumed` is the offset just past the port. */
function parseAddress(bytes: Uint8Array, at: number): Parsed<SocksAddress> {
	if (bytes.length < at + 1) {
		return INCOMPLETE;
	}
	const type = bytes[at]!;
	let host: string;
	let end: number;
	switch (type) {
		case AddressType.IPv4:
			end = at + 1 + 4;
			if (bytes.length < end + 2) {
				return INCOMPLETE;
			}
			host = [...bytes.subarray(at + 1, end)].join('.');
			break;
		case AddressType.IPv6:
			end = at + 1 + 16;
			if (bytes.length < end + 2) {
				return INCOMPLETE;
			}
			host = formatIPv6(bytes.subarray(at + 1, end));
			break;
		case AddressType.Domain: {
			if (bytes.length < at + 2) {
				return INCOMPLETE;
			}
			const length = bytes[at + 1]!;
			if (length === 0) {
				return { type: 'error', reason: 'an empty domain name', reply: SocksReply.GeneralFailure };
			}
			end = at + 2 + length;
			if (bytes.length < end + 2) {
				return INCOMPLETE;
			}
			host = decodeUtf8(bytes.subarray(at + 2, end));
			if (!isPlausibleName(host)) {
				return {
					type: 'error',
					reason: 'a domain name with bytes no name has',
					reply: SocksReply.GeneralFailure,
				};
			}
			break;
		}
		default:
			return {
				type: 'error',
				reason: `address type ${type} is not SOCKS5's`,
				reply: SocksReply.AddressTypeNotSupported,
			};
	}
	const port = (bytes[end]! << 8) | bytes[end + 1]!;
	return { type: 'done', value: { host, port, isDomain: type === AddressType.Domain }, consumed: end + 2 };
}

function encodeAddress(address: SocksAddress): Uint8Array {
	const v4 = parseIPv4(address.host);
	const v6 = v4 ? undefined : parseIPv6(address.host);
	let head: Uint8Array;
	if (v4) {
		head = Uint8Array.of(AddressType.IPv4, ...v4);
	} else if (v6) {
		head = Uint8Array.of(AddressType.IPv6, ...v6);
	} else {
		const name = encodeUtf8(address.host).subarray(0, 255);
		head = Uint8Array.of(AddressType.Domain, name.length, ...name);
	}
	const out = new Uint8Array(head.length + 2);
	out.set(head);
	out[head.length] = address.port >> 8;
	out[head.length + 1] = address.port & 0xff;
	return out;
}

/** A domain name a resolver could be asked about: no spaces, controls, slashes or `@`. */
function isPlausibleName(name: string): boolean {
	for (let i = 0; i < name.length; i++) {
		const code = name.charCodeAt(i);
		if (code <= 0x20 || code === 0x7f || code === 0x2f || code === 0x5c || code === 0x40) {
			return false;
		}
	}
	return true;
}

function parseIPv4(text: string): number[] | undefined {
	const parts = text.split('.');
	if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
		return undefined;
	}
	return parts.map(Number);
}

/** 16 bytes of an IPv6 address in text (`::` and an embedded IPv4 tail allowed); undefined otherwise. */
export function parseIPv6(text: string): number[] | undefined {
	const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
	if (!host.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(host)) {
		return undefined;
	}
	const halves = host.split('::');
	if (halves.length > 2) {
		return undefined;
	}
	const groups = (half: string): number[] | undefined => {
		if (half === '') {
			return [];
		}
		const out: number[] = [];
		for (const part of half.split(':')) {
			if (part.includes('.')) {
				const v4 = parseIPv4(part);
				if (!v4) {
					return undefined;
				}
				out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
			} else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
				out.push(parseInt(part, 16));
			} else {
				return undefined;
			}
		}
		return out;
	};
	const head = groups(halves[0]!);
	const tail = halves.length === 2 ? groups(halves[1]!) : [];
	if (!head || !tail) {
		return undefined;
	}
	const missing = 8 - head.length - tail.length;
	if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) {
		return undefined;
	}
	const words = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
	return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An IPv6 address in its short text form (RFC 5952: lower case, the longest run of zeros as `::`). */
function formatIPv6(bytes: Uint8Array): string {
	const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
	let bestStart = -1;
	let bestLength = 1;
	for (let i = 0; i < 8;) {
		if (words[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && words[j] === 0) {
			j++;
		}
		if (j - i > bestLength) {
			bestStart = i;
			bestLength = j - i;
		}
		i = j;
	}
	const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
	if (bestStart < 0) {
		return hex(words);
	}
	return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

// --- The client's side (Berth speaking to an upstream SOCKS5 proxy: --upstream socks5://) ---

/** The greeting: no authentication, or username/password when there are credentials. */
export function encodeClientGreeting(withCredentials: boolean): Uint8Array {
	return withCredentials
		? Uint8Array.of(SOCKS5_VERSION, 1, SocksMethod.UserPass)
		: Uint8Array.of(SOCKS5_VERSION, 1, SocksMethod.None);
}

/** The server's choice of method (2 bytes). */
export function parseMethodChoice(bytes: Uint8Array): Parsed<SocksMethod> {
	if (bytes.byteLength < 2) {
		return INCOMPLETE;
	}
	if (bytes[0] !== SOCKS5_VERSION) {
		return { type: 'error', reason: `the proxy answered version ${bytes[0]}, not SOCKS5` };
	}
	return { type: 'done', value: bytes[1]! as SocksMethod, consumed: 2 };
}

/** RFC 1929's request; each part at most 255 bytes of UTF-8. */
export function encodeUserPassRequest(username: string, password: string): Uint8Array {
	const user = new TextEncoder().encode(username).subarray(0, 255);
	const pass = new TextEncoder().encode(password).subarray(0, 255);
	return Uint8Array.of(AUTH_VERSION, user.byteLength, ...user, pass.byteLength, ...pass);
}

/** RFC 1929's status: done with true when accepted. */
export function parseUserPassStatus(bytes: Uint8Array): Parsed<boolean> {
	if (bytes.byteLength < 2) {
		return INCOMPLETE;
	}
	return { type: 'done', value: bytes[1] === 0, consumed: 2 };
}

/** A CONNECT request to `address` (a name is sent as a name: the proxy resolves it). */
export function encodeConnectRequest(address: SocksAddress): Uint8Array {
	const encoded = encodeAddress(address);
	const out = new Uint8Array(3 + encoded.byteLength);
	out.set([SOCKS5_VERSION, SocksCommand.Connect, 0]);
	out.set(encoded, 3);
	return out;
}

/** The server's reply to a request: its code (and bound address, unused). */
export function parseReplyCode(bytes: Uint8Array): Parsed<SocksReply> {
	if (bytes.byteLength < 4) {
		return INCOMPLETE;
	}
	if (bytes[0] !== SOCKS5_VERSION) {
		return { type: 'error', reason: `the proxy answered version ${bytes[0]}, not SOCKS5` };
	}
	const address = parseAddress(bytes, 3);
	if (address.type !== 'done') {
		return address;
	}
	return { type: 'done', value: bytes[1]! as SocksReply, consumed: address.consumed }; // parseAddress counts from 0
}
