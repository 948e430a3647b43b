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
 *     1 Open       new     JSON OpenTarget: where the stream goes
 *     2 OpenOk     id      empty: the target was reached
 *     3 Data       id      bytes, at most the credit the reader granted
 *     4 End        id      empty: the sender will send no more (TCP FIN); the other way stays open
 *     5 Reset      id      UTF-8 reason: the stream is over both ways (refused target, error)
 *     6 Window     id      u32 BE: more bytes the reader may now be sent
 *
 * Stream ids: the client opens odd ones, the agent even ones (reverse forwards), so both may open
 * streams without agreeing first. A stream is over once End went both ways, or after a Reset.
 * Data has no JSON and no copy: the message's bytes after the 5-byte header are the payload.
 */

import { decodeUtf8, encodeUtf8 } from './bytes';
import { isObject, isPort, isString } from './guards';
import { writeU32 } from './wire';

export enum FrameKind {
	Rpc = 0,
	Open = 1,
	OpenOk = 2,
	Data = 3,
	End = 4,
	Reset = 5,
	Window = 6,
}

export const FRAME_HEADER_BYTES = 5;

/** Where a new stream goes: a host and port (as seen by the side that accepts the stream), or a reverse forward's listener. */
export type OpenTarget =
	{ readonly host: string; readonly port: number } | { readonly forward: string; readonly from?: string };

/** Arguments of the Mux connection type's `connectionType` message. */
export interface MuxArgs {
	/** Frame format version; the agent refuses versions it does not speak. */
	readonly version: number;
}

export const MUX_VERSION = 1;

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

export function encodeReset(streamId: number, reason: string): Uint8Array {
	return encodeFrame(FrameKind.Reset, streamId, encodeUtf8(reason.slice(0, MAX_REASON_CHARS)));
}

/** Longest reset reason sent or accepted. */
const MAX_REASON_CHARS = 512;
/** Longest Open body accepted. */
const MAX_OPEN_BYTES = 1024;

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
	if (
		isString(value['host']) &&
		value['host'].length > 0 &&
		value['host'].length <= 255 &&
		isPort(value['port'])
	) {
		return { host: value['host'], port: value['port'] };
	}
	if (isString(value['forward']) && value['forward'].length <= 64) {
		const from = value['from'];
		return { forward: value['forward'], ...(isString(from) && from.length <= 64 ? { from } : {}) };
	}
	return undefined;
}

export function parseReset(body: Uint8Array): string {
	return decodeUtf8(body.subarray(0, MAX_REASON_CHARS * 4)).slice(0, MAX_REASON_CHARS) || 'reset by peer';
}

export function parseMuxArgs(args: unknown): MuxArgs | undefined {
	return isObject(args) && args['version'] === MUX_VERSION ? { version: MUX_VERSION } : undefined;
}
