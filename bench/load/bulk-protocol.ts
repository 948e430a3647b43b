/**
 * The bulk server's little protocol (bench/load/bulk-server.ts), shared by its clients.
 *
 *   client -> server   a 16-byte request: "BULK", mode, 0, size (48-bit), id (32-bit), big-endian
 *   server -> client   READY, once it has the request: the connection is proven end to end
 *   download (mode D)  client sends GO; the server sends `size` pattern bytes of transfer `id`
 *                      (bench/load/pattern.ts) and ends its side
 *   upload (mode U)    client sends `size` pattern bytes; the server checks every byte, sends one
 *                      UPLOAD_PROGRESS per UPLOAD_PROGRESS_BYTES that matched, UPLOAD_OK after the
 *                      last byte, or UPLOAD_BAD at the first wrong one (and closes)
 *
 * A size of UNLIMITED means "until the client closes" (timed runs). A client that holds a
 * connection idle simply waits before sending GO.
 */

export const REQUEST_BYTES = 16;
const MAGIC = 'BULK';
/** The largest size a request can carry (48 bits), read as "no end". */
export const UNLIMITED = 2 ** 48 - 1;
/** An upload's progress unit: the server confirms this many checked bytes at a time. */
export const UPLOAD_PROGRESS_BYTES = 64 * 1024;

export const READY = 0x52; // 'R'
export const GO = 0x47; // 'G'
export const UPLOAD_PROGRESS = 0x41; // 'A'
export const UPLOAD_OK = 0x4b; // 'K'
export const UPLOAD_BAD = 0x58; // 'X'

export type BulkMode = 'download' | 'upload';

export interface BulkRequest {
	readonly mode: BulkMode;
	readonly size: number;
	readonly id: number;
}

const MODE_BYTES: Readonly<Record<BulkMode, number>> = { download: 0x44, upload: 0x55 };

export function encodeRequest(request: BulkRequest): Buffer {
	const out = Buffer.alloc(REQUEST_BYTES);
	out.write(MAGIC, 0, 'latin1');
	out[4] = MODE_BYTES[request.mode];
	out.writeUIntBE(request.size, 6, 6);
	out.writeUInt32BE(request.id >>> 0, 12);
	return out;
}

/** The request in the first REQUEST_BYTES of `bytes`, or undefined if they are not one. */
export function decodeRequest(bytes: Buffer): BulkRequest | undefined {
	if (bytes.length < REQUEST_BYTES || bytes.toString('latin1', 0, 4) !== MAGIC || bytes[5] !== 0) {
		return undefined;
	}
	const mode =
		bytes[4] === MODE_BYTES.download ? 'download' : bytes[4] === MODE_BYTES.upload ? 'upload' : undefined;
	if (mode === undefined) {
		return undefined;
	}
	return { mode, size: bytes.readUIntBE(6, 6), id: bytes.readUInt32BE(12) };
}
