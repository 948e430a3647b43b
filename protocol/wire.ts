/**
 * Every message on the agent's wire: VS Code's protocol message header and the handshake's JSON
 * Control messages. This file is the one place that declares their shapes.
 *
 * A protocol message (src/vs/base/parts/ipc/common/ipc.net.ts; its "9 bytes" comment is stale):
 *
 *     0        1                5                9                13
 *     +--------+----------------+----------------+----------------+---------------------+
 *     |  TYPE  |       ID       |      ACK       |     LENGTH     |  PAYLOAD (LENGTH)   |
 *     |   u8   |     u32 BE     |     u32 BE     |     u32 BE     |                     |
 *     +--------+----------------+----------------+----------------+---------------------+
 *
 * Messages are a byte stream: one may span socket reads or WebSocket frames, and one read may
 * hold several. MessageReader (message-reader.ts) parses them.
 */

import { HEADER_BYTES } from './constants';
import { HandshakeReason } from './errors';
import { isObject, isString } from './guards';
import { isTokenRefusal, type TokenRefusal } from './token-refusal';
import { decodeUtf8, encodeUtf8 } from './bytes';

/** VS Code's ProtocolMessageType. Unknown values are ignored by receivers. */
export enum MessageType {
	None = 0,
	/** Application bytes; id = sequence number from 1, ack = highest in-order id received. */
	Regular = 1,
	/** Handshake JSON; id 0, ack 0; neither counted nor acknowledged. */
	Control = 2,
	/** An explicit acknowledgement (ack field only). */
	Ack = 3,
	/** The peer is ending the session for good. */
	Disconnect = 5,
	/** The peer saw a gap: resend every unacknowledged Regular message. */
	ReplayRequest = 6,
	/** Stop writing to the socket until Resume. */
	Pause = 7,
	Resume = 8,
	/** Sent every 5 s by both ends, so silence means a dead peer. */
	KeepAlive = 9,
	/** Payload: u32 BE measurement id; must be echoed as LatencyResponse. */
	LatencyRequest = 10,
	LatencyResponse = 11,
}

/** A parsed message. `payload` may be a view into a larger buffer: copy it to keep it past the call. */
export interface WireMessage {
	readonly type: number;
	readonly id: number;
	readonly ack: number;
	readonly payload: Uint8Array;
}

/** Writes the 13-byte header into a new buffer. */
export function encodeHeader(type: MessageType, id: number, ack: number, length: number): Uint8Array {
	const header = new Uint8Array(HEADER_BYTES);
	header[0] = type;
	writeU32(header, 1, id);
	writeU32(header, 5, ack);
	writeU32(header, 9, length);
	return header;
}

/** A whole message (header and payload) in one buffer: for small messages. */
export function encodeMessage(type: MessageType, id: number, ack: number, payload?: Uint8Array): Uint8Array {
	const length = payload?.byteLength ?? 0;
	const bytes = new Uint8Array(HEADER_BYTES + length);
	bytes[0] = type;
	writeU32(bytes, 1, id);
	writeU32(bytes, 5, ack);
	writeU32(bytes, 9, length);
	if (payload) {
		bytes.set(payload, HEADER_BYTES);
	}
	return bytes;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
	bytes[offset] = value >>> 24;
	bytes[offset + 1] = value >>> 16;
	bytes[offset + 2] = value >>> 8;
	bytes[offset + 3] = value;
}

export function readU32(bytes: Uint8Array, offset: number): number {
	return (
		((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
		0
	);
}

// ---------------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------------

/** VS Code's connection types, plus the ones Berth registers beside them (server registry). */
export enum ConnectionType {
	Management = 1,
	ExtensionHost = 2,
	Tunnel = 3,
	/** Berth's own: many streams and RPC over one session (protocol/mux-frames.ts). */
	Mux = 32,
}

/** Client → server, first: the connection token and a challenge for the server to sign. */
export interface AuthRequest {
	readonly type: 'auth';
	readonly auth: string;
	readonly data: string;
}

/** Server → client: the server's signature of the client's challenge, and its own challenge. */
export interface SignRequest {
	readonly type: 'sign';
	readonly data: string;
	readonly signedData: string;
	/**
	 * Berth's, to a client that sent a user token (a bearer token the agent could not know in
	 * advance): the agent's own public key (Ed25519, base64url of its raw 32 bytes), and
	 * `signedData` is its signature of the client's challenge with that key. A client that pinned
	 * the key's fingerprint (an init URL's `k`) checks both. VS Code's clients ignore it.
	 */
	readonly key?: string;
}

/** Client → server, second: the signed challenge and what the connection is for. */
export interface ConnectionTypeRequest {
	readonly type: 'connectionType';
	readonly desiredConnectionType: number;
	readonly signedData: string;
	readonly commit?: string;
	readonly args?: unknown;
}

/** Server → client: the handshake failed; `reason` is one of HandshakeReason or a target error. */
export interface ErrorMessage {
	readonly type: 'error';
	readonly reason: string;
	/** Berth's: why a user token was refused, for clients to act on (VS Code's clients ignore it). */
	readonly code?: TokenRefusal;
}

/**
 * Server → client: the connection is accepted. To a client that proved its token without sending
 * it (TOKEN_PROOF_AUTH), a Berth agent adds its own proof: `signedData` = sign(token, the client's
 * `auth.data`). VS Code's clients never ask for it and ignore it.
 */
export interface OkMessage {
	readonly type: 'ok';
	readonly signedData?: string;
}

export type HandshakeMessage = AuthRequest | SignRequest | ConnectionTypeRequest | ErrorMessage | OkMessage;

/** Arguments of a Tunnel (3) connection. */
export interface TunnelArgs {
	readonly host: string;
	readonly port: number;
}

/** The Control message that carries a handshake message. */
export function encodeControl(message: HandshakeMessage): Uint8Array {
	return encodeMessage(MessageType.Control, 0, 0, encodeUtf8(JSON.stringify(message)));
}

/** Longest challenge, signature or commit string accepted in a handshake field (Berth's bound). */
const MAX_HANDSHAKE_FIELD_CHARS = 1024;

function parseJson(payload: Uint8Array): unknown {
	try {
		return JSON.parse(decodeUtf8(payload));
	} catch {
		return undefined;
	}
}

/** Server side: validates the first message, answering with VS Code's reason strings. */
export function parseAuthRequest(payload: Uint8Array): AuthRequest | { error: HandshakeReason } {
	const value = parseJson(payload);
	if (!isObject(value)) {
		return { error: HandshakeReason.MalformedFirstMessage };
	}
	if (value['type'] !== 'auth') {
		return { error: HandshakeReason.InvalidFirstMessage };
	}
	const { auth, data } = value;
	// VS Code does not look at `data`'s type; Berth must sign it, so it has to be a bounded string.
	if (!isString(data) || data.length > MAX_HANDSHAKE_FIELD_CHARS) {
		return { error: HandshakeReason.InvalidFirstMessage };
	}
	return { type: 'auth', auth: isString(auth) ? auth : '', data };
}

/** Server side: validates the second message, answering with VS Code's reason strings. */
export function parseConnectionTypeRequest(
	payload: Uint8Array,
): ConnectionTypeRequest | { error: HandshakeReason } {
	const value = parseJson(payload);
	if (!isObject(value)) {
		return { error: HandshakeReason.MalformedSecondMessage };
	}
	if (value['type'] !== 'connectionType') {
		return { error: HandshakeReason.InvalidSecondMessage };
	}
	const { signedData, commit, desiredConnectionType, args } = value;
	if (!isString(signedData) || signedData.length > MAX_HANDSHAKE_FIELD_CHARS) {
		return { error: HandshakeReason.InvalidSecondMessageFieldType };
	}
	if (commit !== undefined && (!isString(commit) || commit.length > MAX_HANDSHAKE_FIELD_CHARS)) {
		return { error: HandshakeReason.InvalidSecondMessageFieldType };
	}
	return {
		type: 'connectionType',
		desiredConnectionType: typeof desiredConnectionType === 'number' ? desiredConnectionType : NaN,
		signedData,
		...(commit !== undefined ? { commit } : {}),
		...(args !== undefined ? { args } : {}),
	};
}

/** Client side: a server reply is `sign`, `ok`, `error`, or (for ExtensionHost) any other object. */
export function parseServerReply(payload: Uint8Array): SignRequest | OkMessage | ErrorMessage | undefined {
	const value = parseJson(payload);
	if (!isObject(value)) {
		return undefined;
	}
	switch (value['type']) {
		case 'sign': {
			const { data, signedData, key } = value;
			if (!isString(data) || !isString(signedData)) {
				return undefined;
			}
			const hasKey = isString(key) && key.length <= MAX_HANDSHAKE_FIELD_CHARS;
			return { type: 'sign', data, signedData, ...(hasKey ? { key } : {}) };
		}
		case 'ok':
			return isString(value['signedData']) ? { type: 'ok', signedData: value['signedData'] } : { type: 'ok' };
		case 'error': {
			const reason = isString(value['reason']) ? value['reason'] : 'unknown error';
			return { type: 'error', reason, ...(isTokenRefusal(value['code']) ? { code: value['code'] } : {}) };
		}
		default:
			return undefined;
	}
}

/** Validates Tunnel args: a host name or address and a TCP port. */
export function parseTunnelArgs(args: unknown): TunnelArgs | undefined {
	if (!isObject(args)) {
		return undefined;
	}
	const { host, port } = args;
	if (!isString(host) || host.length === 0 || host.length > 255) {
		return undefined;
	}
	if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
		return undefined;
	}
	return { host, port };
}
