/**
 * Every frame of Berth's stream multiplexing, the `Mux` connection type (ConnectionType.Mux). Each
 * Regular message of the session carries exactly one frame:
 *
 *     0        1                5
 *     +--------+----------------+------------------------------------------+
 *     |  KIND  |   STREAM ID    |  BODY (the rest of the message)          |
 *     |   u8   |     u32 BE     |                                          |
 *     +--------+----------------+------------------------------------------+
 *
 *     KIND         STREAM  BODY
 *     0 Rpc        0       one JSON RPC message (protocol/rpc.ts)
 *     1 Open       new     JSON OpenTarget (a union on `kind`): where the stream goes
 *     2 OpenOk     id      empty: the target was reached (not sent when the Open said `openOk: false`)
 *     3 Data       id      bytes, at most the credit the reader granted
 *     4 End        id      empty: the sender will send no more (TCP FIN); the other way stays open
 *     5 Reset      id      u8 ResetCode, then a UTF-8 reason: the stream is over both ways
 *     6 Window     id      u32 BE: more bytes the reader may now be sent
 *     7 Datagram   id      one datagram of a `udp` stream, whole: no credit, dropped when the
 *                          session is congested (UDP's promise, not TCP's)
 *
 * Stream ids: the client opens odd ones, the agent even ones (reverse forwards), so both may open
 * streams without agreeing first. A stream is over once End went both ways, or after a Reset.
 * Data has no JSON and no copy: the message's bytes after the 5-byte header are the payload.
 *
 * The client names the protocol version and the features it wants in the connectionType's args
 * (`{"version":2,"features":[…]}`); the agent refuses another version in words, and both sides use
 * only the features both know, so a later peer can add frame kinds and target kinds.
 */

import { decodeUtf8, encodeUtf8 } from './bytes';
import { isArray, isObject, isPort, isString } from './guards';
import { writeU32 } from './wire';
import { isSessionName } from './session-name';

export enum FrameKind {
	Rpc = 0,
	Open = 1,
	OpenOk = 2,
	Data = 3,
	End = 4,
	Reset = 5,
	Window = 6,
	Datagram = 7,
}

/** Largest datagram carried (UDP's own limit, plus a SOCKS5 UDP header of at most 262 bytes). */
export const MAX_DATAGRAM_BYTES = 65_535 + 262;

export const FRAME_HEADER_BYTES = 5;

/**
 * Where a new stream goes:
 * - `tcp`: a host and port, reached by the side that accepts the stream (under its policy);
 * - `reverse`: a connection that arrived on a reverse forward's listener (opened by the agent),
 *   to be carried to that forward's target on the client; `from` is the peer's address, for logs;
 * - `udp`: a SOCKS5 UDP association: the accepting side opens a UDP socket and relays Datagram
 *   frames, each a SOCKS5 UDP datagram (protocol/socks5.ts) naming its destination or source.
 * `via` (tcp, udp; from a proxy client's `via` label) names the provider a connector's stream
 * should leave from, in relay mode; elsewhere it is ignored.
 *
 * `openOk: false` (tcp, reverse): the opener bridged its socket at once and waits for nothing, so
 * the accepting side sends no OpenOk: one frame, one write and one wake-up of each process less
 * per connection (a port forward's; a proxy must wait for OpenOk before it answers its client). A
 * refusal still comes as a Reset. A peer that does not know the field sends OpenOk anyway, which
 * the opener ignores.
 */
export type OpenTarget =
	| {
			readonly kind: 'tcp';
			readonly host: string;
			readonly port: number;
			readonly via?: string;
			readonly openOk?: false;
	  }
	| { readonly kind: 'reverse'; readonly forward: string; readonly from?: string; readonly openOk?: false }
	| { readonly kind: 'udp'; readonly via?: string };

/**
 * Why a stream was reset, as a code both sides can act on (a SOCKS reply, an HTTP status, a
 * retry) without reading the reason's words, which are for people.
 */
export enum ResetCode {
	/** Anything not listed: the reason says what. */
	Error = 0,
	/** A socket at either end was closed or cut without both FINs. */
	Closed = 1,
	/** The target refused the connection (ECONNREFUSED). */
	Refused = 2,
	/** No route to the target's host or network (EHOSTUNREACH, ENETUNREACH). */
	Unreachable = 3,
	/** The target's name does not resolve. */
	NameNotFound = 4,
	/** The agent's --allow/--deny policy forbids the target. */
	PolicyDenied = 5,
	/** Reaching the target took too long. */
	Timeout = 6,
	/** The peer sent more than the credit it was granted, or broke the stream protocol. */
	ProtocolError = 7,
	/** The session ended, taking its streams with it. */
	SessionClosed = 8,
	/** Too many streams open in the session, or no such forward: refused before it began. */
	Rejected = 9,
}

/** How a stream was reset: a code to act on and a reason in words. */
export interface StreamReset {
	readonly code: ResetCode;
	readonly reason: string;
}

/** Arguments of the Mux connection type's `connectionType` message. */
export interface MuxArgs {
	/** Frame format version; the agent refuses versions it does not speak. */
	readonly version: number;
	/** Optional features the client wants; the agent uses the ones it knows (MUX_FEATURES). */
	readonly features: readonly string[];
	/**
	 * The session's name for people (`berth forward --session-name`, or a login's prefix and the
	 * host's name), shown beside its user; optional, and dropped by the agent when it is not a
	 * session name (protocol/session-name.ts): a name is never a reason to refuse.
	 */
	readonly sessionName?: string;
}

export const MUX_VERSION = 2;

/** A client's args: this version, no optional features, and the session's name when it has one. */
export function createMuxArgs(sessionName?: string): MuxArgs {
	return { version: MUX_VERSION, features: [], ...(sessionName !== undefined ? { sessionName } : {}) };
}
/** Features this side knows: `datagram` (FrameKind.Datagram and `udp` targets). */
export const MUX_FEATURES: readonly string[] = ['datagram'];
/** At most this many features, each at most this long: the args arrive before much is trusted. */
const MAX_FEATURES = 32;
const MAX_FEATURE_CHARS = 64;

export function encodeFrameHeader(kind: FrameKind, streamId: number): Uint8Array {
	const header = new Uint8Array(FRAME_HEADER_BYTES);
	header[0] = kind;
	writeU32(header, 1, streamId);
	return header;
}

/** A whole small frame (header and body) in one buffer. */
export function encodeFrame(kind: FrameKind, streamId: number, body?: Uint8Array): Uint8Array {
	const frame = new Uint8Array(FRAME_HEADER_BYTES + (body?.byteLength ?? 0));
	frame[0] = kind;
	writeU32(frame, 1, streamId);
	if (body) {
		frame.set(body, FRAME_HEADER_BYTES);
	}
	return frame;
}

export function encodeWindow(streamId: number, increment: number): Uint8Array {
	const frame = new Uint8Array(FRAME_HEADER_BYTES + 4);
	frame[0] = FrameKind.Window;
	writeU32(frame, 1, streamId);
	writeU32(frame, 5, increment);
	return frame;
}

export function encodeOpen(streamId: number, target: OpenTarget): Uint8Array {
	return encodeFrame(FrameKind.Open, streamId, encodeUtf8(JSON.stringify(target)));
}

export function encodeReset(streamId: number, reset: StreamReset): Uint8Array {
	const reason = encodeUtf8(reset.reason.slice(0, MAX_REASON_CHARS));
	const body = new Uint8Array(1 + reason.byteLength);
	body[0] = reset.code;
	body.set(reason, 1);
	return encodeFrame(FrameKind.Reset, streamId, body);
}

/** Longest reset reason sent or accepted. */
const MAX_REASON_CHARS = 512;
/** Longest Open body accepted. */
const MAX_OPEN_BYTES = 1024;
/** Longest host name (RFC 1035's 255 octets). */
export const MAX_HOST_CHARS = 255;
/** Longest forward id or peer address in a `reverse` target. */
const MAX_FORWARD_ID_CHARS = 64;

export function parseOpenTarget(body: Uint8Array): OpenTarget | undefined {
	if (body.byteLength > MAX_OPEN_BYTES) {
		return undefined;
	}
	let value: unknown;
	try {
		value = JSON.parse(decodeUtf8(body));
	} catch {
		return undefined;
	}
	if (!isObject(value)) {
		return undefined;
	}
	switch (value['kind']) {
		case 'tcp': {
			const host = value['host'];
			const port = value['port'];
			return isString(host) && host.length > 0 && host.length <= MAX_HOST_CHARS && isPort(port)
				? { kind: 'tcp', host, port, ...viaOf(value), ...openOkOf(value) }
				: undefined;
		}
		case 'udp':
			return { kind: 'udp', ...viaOf(value) };
		case 'reverse': {
			const forward = value['forward'];
			const from = value['from'];
			if (!isString(forward) || forward.length === 0 || forward.length > MAX_FORWARD_ID_CHARS) {
				return undefined;
			}
			const withFrom = isString(from) && from.length <= MAX_FORWARD_ID_CHARS;
			return { kind: 'reverse', forward, ...(withFrom ? { from } : {}), ...openOkOf(value) };
		}
		default:
			return undefined;
	}
}

/** `via`, when it is a provider's name (as proxy-config.ts reads it); absent otherwise. */
function viaOf(value: Record<string, unknown>): { via?: string } {
	const via = value['via'];
	return isString(via) && via.length > 0 && via.length <= MAX_FORWARD_ID_CHARS ? { via } : {};
}

/** `openOk: false` when the Open asked for no OpenOk; absent (send one) for anything else. */
function openOkOf(value: Record<string, unknown>): { openOk?: false } {
	return value['openOk'] === false ? { openOk: false } : {};
}

/** A Reset's body; an unknown code (from a newer peer) reads as `Error`. */
export function parseReset(body: Uint8Array): StreamReset {
	const code = body.byteLength > 0 && body[0]! in ResetCode ? (body[0]! as ResetCode) : ResetCode.Error;
	const reason = decodeUtf8(body.subarray(1, 1 + MAX_REASON_CHARS * 4)).slice(0, MAX_REASON_CHARS);
	return { code, reason: reason || 'reset by peer' };
}

/** The client's args, or undefined when they are not ones this side speaks. */
export function parseMuxArgs(args: unknown): MuxArgs | undefined {
	if (!isObject(args) || args['version'] !== MUX_VERSION) {
		return undefined;
	}
	const features = args['features'] ?? [];
	if (
		!isArray(features) ||
		features.length > MAX_FEATURES ||
		!features.every((f) => isString(f) && f.length <= MAX_FEATURE_CHARS)
	) {
		return undefined;
	}
	const sessionName = args['sessionName'];
	return {
		version: MUX_VERSION,
		features: features as string[],
		...(isSessionName(sessionName) ? { sessionName } : {}),
	};
}
