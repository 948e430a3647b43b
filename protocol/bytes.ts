/** Byte helpers that work on plain Uint8Array, so protocol/ runs in Node and in browsers alike. */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export function encodeUtf8(text: string): Uint8Array {
	return encoder.encode(text);
}

export function decodeUtf8(bytes: Uint8Array): string {
	return decoder.decode(bytes);
}

/**
 * A new buffer whose contents are undefined (to be overwritten at once). In Node it comes from
 * Buffer's pool: no zero-filling, no ArrayBuffer of its own, and sockets take it without
 * conversion. Elsewhere it is a plain Uint8Array.
 */
export function allocBytes(length: number): Uint8Array {
	const nodeBuffer = (globalThis as { Buffer?: { allocUnsafe(n: number): Uint8Array } }).Buffer;
	return nodeBuffer ? nodeBuffer.allocUnsafe(length) : new Uint8Array(length);
}

/** Joins chunks into one new buffer (or returns the only chunk as it is). */
export function concatBytes(chunks: readonly Uint8Array[], totalLength?: number): Uint8Array {
	if (chunks.length === 1) {
		return chunks[0]!;
	}
	const length = totalLength ?? chunks.reduce((sum, c) => sum + c.byteLength, 0);
	const out = allocBytes(length);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}
