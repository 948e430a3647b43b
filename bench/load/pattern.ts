/**
 * The bytes every bulk transfer carries, so each end can check every byte it receives without
 * hashing: one pseudo-random block that both ends build from the same seed, read as an endless
 * ring. Transfer `id` starts at its own offset in the ring, so bytes that arrive short, doubled,
 * out of order or on the wrong connection compare unequal (unless shifted by a whole ring, which
 * the byte count then catches). Comparing is a memcmp, far cheaper than the relays under test.
 */

/** A prime length, so that no chunk size the relays use lines up with the ring. */
export const PATTERN_BYTES = 1_048_573;
/** Where transfer `id` starts in the ring: ids 0, 1, 2 ... start this far apart. */
const ID_STRIDE_BYTES = 65_537;
const SEED = 0x9e3779b9;

/** The ring, the same in every process (xorshift32 from a fixed seed). */
export function patternBlock(): Buffer {
	const block = Buffer.allocUnsafe(PATTERN_BYTES);
	let x = SEED;
	for (let i = 0; i < PATTERN_BYTES; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		block[i] = x & 0xff;
	}
	return block;
}

/** Where transfer `id`'s byte 0 sits in the ring. */
export function patternStart(id: number): number {
	return (id * ID_STRIDE_BYTES) % PATTERN_BYTES;
}

/**
 * Whether `chunk` equals the ring from position `at` (taken modulo the ring's length) on.
 * Chunks may be longer than the ring; each piece is one memcmp.
 */
export function matchesPattern(block: Buffer, chunk: Buffer, at: number): boolean {
	let ring = at % PATTERN_BYTES;
	let offset = 0;
	while (offset < chunk.length) {
		const length = Math.min(chunk.length - offset, PATTERN_BYTES - ring);
		if (!chunk.subarray(offset, offset + length).equals(block.subarray(ring, ring + length))) {
			return false;
		}
		offset += length;
		ring = 0;
	}
	return true;
}

/** The next piece to send from position `at`: a view of the ring, at most `max` bytes long. */
export function patternSlice(block: Buffer, at: number, max: number): Buffer {
	const ring = at % PATTERN_BYTES;
	return block.subarray(ring, ring + Math.min(max, PATTERN_BYTES - ring));
}
