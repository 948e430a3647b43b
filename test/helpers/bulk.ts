import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * Byte-exact bulk transfers for load tests: many connections at once, each moving its own
 * deterministic bytes, checked by SHA-256 at the receiving end.
 *
 * Each connection starts with a 5-byte header from the client: a mode (1 download, 2 upload,
 * 3 both ways at once) and a u32 connection number. Bytes are views into one random pool at an
 * offset that depends on the connection and the chunk, so no two connections (and no two chunks
 * of one) carry the same bytes, and nothing is generated per connection: a duplicated, lost or
 * reordered chunk changes the hash.
 */

export enum BulkMode {
	Download = 1,
	Upload = 2,
	Both = 3,
}

const POOL_BYTES = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const HEADER_BYTES = 5;
/** The target's verdict on an upload: one byte. */
const VERDICT_OK = 0x01;
const VERDICT_BAD = 0x00;
/** Connections at once, as a browser or package manager would open them: the kernel's accept queue. */
const BACKLOG = 4096;

/** The random bytes every chunk is a view of (one per process: both ends here share it). */
let pool: Buffer | undefined;
function thePool(): Buffer {
	pool ??= randomBytes(POOL_BYTES + CHUNK_BYTES);
	return pool;
}

/** The chunks connection `id` sends in `direction` (0: towards the target, 1: back). */
function* chunksOf(id: number, direction: 0 | 1, bytes: number): Generator<Buffer> {
	const source = thePool();
	for (let sent = 0, i = 0; sent < bytes; i++) {
		const length = Math.min(CHUNK_BYTES, bytes - sent);
		const offset = (id * 7919 + i * 104_729 + direction * 65_537) % POOL_BYTES;
		yield source.subarray(offset, offset + length);
		sent += length;
	}
}

function expectedHash(id: number, direction: 0 | 1, bytes: number): string {
	const hash = createHash('sha256');
	for (const chunk of chunksOf(id, direction, bytes)) {
		hash.update(chunk);
	}
	return hash.digest('hex');
}

/** Writes `chunks` with backpressure, then ends the socket's writing side. */
function pump(socket: Socket, chunks: Iterator<Buffer>): void {
	const next = (): void => {
		for (let r = chunks.next(); !r.done; r = chunks.next()) {
			if (!socket.write(r.value)) {
				socket.once('drain', next);
				return;
			}
		}
		socket.end();
	};
	next();
}

/** A target for bulk connections: it sends, receives and checks as each connection's header asks. */
export async function startBulkTarget(
	bytes: number,
): Promise<{ port: number; close(): Promise<void>; readonly uploadsBad: number }> {
	const sockets = new Set<Socket>();
	const state = { uploadsBad: 0 };
	const server = createServer({ allowHalfOpen: true }, (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		let header = Buffer.alloc(0);
		const hash = createHash('sha256');
		let mode = 0;
		let id = 0;
		socket.on('data', (chunk: Buffer) => {
			if (mode === 0) {
				header = Buffer.concat([header, chunk]);
				if (header.length < HEADER_BYTES) {
					return;
				}
				mode = header[0]!;
				id = header.readUInt32BE(1);
				chunk = header.subarray(HEADER_BYTES);
				if (mode === BulkMode.Download || mode === BulkMode.Both) {
					pump(socket, chunksOf(id, 1, bytes));
				}
			}
			hash.update(chunk);
		});
		socket.on('end', () => {
			if (mode === BulkMode.Upload || mode === BulkMode.Both) {
				const good = hash.digest('hex') === expectedHash(id, 0, bytes);
				if (!good) {
					state.uploadsBad++;
				}
				if (mode === BulkMode.Upload) {
					socket.end(Buffer.from([good ? VERDICT_OK : VERDICT_BAD]));
				}
			} else if (mode !== BulkMode.Download) {
				socket.end(); // a header that never came; a download ends when its pump has sent it all
			}
		});
	});
	await new Promise<void>((resolve) =>
		server.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG }, resolve),
	);
	return {
		port: (server.address() as AddressInfo).port,
		get uploadsBad() {
			return state.uploadsBad;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) {
					s.destroy();
				}
				server.close(() => resolve());
			}),
	};
}

/** What happened to one bulk connection, seen from the client side. */
export type BulkOutcome = 'exact' | 'mismatch' | 'error';

/** One bulk connection through `port` (a forward's listener): resolves with its outcome. */
export function bulkConnection(
	port: number,
	mode: BulkMode,
	id: number,
	bytes: number,
): Promise<BulkOutcome> {
	const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
	return new Promise((resolve) => {
		socket.on('error', () => resolve('error'));
		socket.on('connect', () => resolve(bulkOver(socket, mode, id, bytes)));
	});
}

/**
 * One bulk exchange on a socket already connected to the bulk target (directly, or through a
 * proxy whose handshake is done); resolves with its outcome once the socket closes.
 */
export function bulkOver(socket: Socket, mode: BulkMode, id: number, bytes: number): Promise<BulkOutcome> {
	return new Promise((resolve) => {
		const hash = createHash('sha256');
		const received: Buffer[] = [];
		let failed = false;
		socket.on('error', () => (failed = true));
		const header = Buffer.alloc(HEADER_BYTES);
		header[0] = mode;
		header.writeUInt32BE(id, 1);
		socket.write(header);
		if (mode === BulkMode.Download) {
			socket.end();
		} else {
			pump(socket, chunksOf(id, 0, bytes));
		}
		socket.on('data', (chunk: Buffer) => {
			if (mode === BulkMode.Upload) {
				received.push(chunk);
			} else {
				hash.update(chunk);
			}
		});
		socket.on('close', () => {
			if (failed) {
				resolve('error');
			} else if (mode === BulkMode.Upload) {
				const verdict = Buffer.concat(received);
				resolve(verdict.length === 1 && verdict[0] === VERDICT_OK ? 'exact' : 'mismatch');
			} else {
				resolve(hash.digest('hex') === expectedHash(id, 1, bytes) ? 'exact' : 'mismatch');
			}
		});
	});
}

/** Runs `count` bulk connections at once; resolves with how many ended each way. */
export async function runBulk(
	port: number,
	mode: BulkMode,
	count: number,
	bytes: number,
): Promise<Record<BulkOutcome, number>> {
	const outcomes = await Promise.all(
		Array.from({ length: count }, (_, id) => bulkConnection(port, mode, id, bytes)),
	);
	const tally: Record<BulkOutcome, number> = { exact: 0, mismatch: 0, error: 0 };
	for (const outcome of outcomes) {
		tally[outcome]++;
	}
	return tally;
}
