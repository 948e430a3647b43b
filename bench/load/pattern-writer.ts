import type { Socket } from 'node:net';
import { patternSlice } from './pattern';

/** Bytes handed to one write: Node's own read size, so the relays see the usual chunks. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/** How far a pattern write has got. */
export interface PatternWrite {
	readonly written: number;
}

/**
 * Writes `size` pattern bytes from ring position `start` to `socket`, pausing at backpressure,
 * and calls `done` after the last. One chunk per event-loop turn: a loopback socket takes
 * megabytes before write() reports backpressure, so a plain loop would fill a few sockets while
 * the process's other connections wait, and the load itself would be unfair.
 */
export function writePattern(
	socket: Socket,
	block: Buffer,
	start: number,
	size: number,
	done: () => void,
): PatternWrite {
	const state = { written: 0 };
	const pump = (): void => {
		if (socket.destroyed) {
			return;
		}
		if (state.written >= size) {
			done();
			return;
		}
		const slice = patternSlice(
			block,
			start + state.written,
			Math.min(WRITE_CHUNK_BYTES, size - state.written),
		);
		state.written += slice.length;
		if (socket.write(slice)) {
			setImmediate(pump);
		} else {
			socket.once('drain', pump);
		}
	};
	pump();
	return state;
}
