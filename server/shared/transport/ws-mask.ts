// A pure JS + WebAssembly-SIMD stand-in for the optional native `bufferutil` add-on of `ws`:
// esbuild.mjs aliases `bufferutil` to this module, so the bundled agent and client mask and unmask
// WebSocket frames at ~24 GB/s instead of ws's byte loop (~0.6 GB/s), with no native add-on.
//
//   mask(source, mask, output, offset, length): output[offset + i] = source[i] ^ mask[i & 3]
//   unmask(buffer, mask):                        buffer[i] ^= mask[i & 3]
//
// Large inputs are copied into wasm linear memory in 16 KiB chunks (L1-sized), XORed with
// v128 (64 bytes per loop iteration) and copied back. Where WebAssembly or SIMD isn't available
// (e.g. --jitless) it falls back to an Int32Array word loop that handles unaligned head and tail
// bytes and rotates the mask to match. If source and output overlap (ws never does this except
// for an exact in-place call) the result is as if source had been copied first (memmove semantics).

/* Generated from xor.wat (wabt, --enable-simd). Exports memory (1 page) and
   xor(len: i32, mask: i32): for p in 0..len step 64: mem[p..p+64] ^= i32x4.splat(mask) */
const WASM_B64 =
	'AGFzbQEAAAABBgFgAn9/AAMCAQAFAwEAAQcQAgZtZW1vcnkCAAN4b3IAAAplAWMCAX8BeyAB/REhAwJAA0AgAiAATw0BIAIgAv0ABAAgA/1R/QsEACACIAL9AAQQIAP9Uf0LBBAgAiAC/QAEICAD/VH9CwQgIAIgAv0ABDAgA/1R/QsEMCACQcAAaiECDAALCws=';

const CHUNK = 16384; // bytes per copy-in / xor / copy-out step (best measured: 16 KiB)
// below these lengths the JS word loop is faster (wasm call + copy in/out overhead)
const MASK_WASM_MIN = 1024;
const UNMASK_WASM_MIN = 512;
const WORD_MIN = 32; // below this the plain byte loop is used

interface Wasm {
	ab: ArrayBuffer;
	full: Uint8Array;
	xor: (len: number, mask: number) => void;
}

/** The slice of the WebAssembly API used here (@types/node 20 does not declare it). */
interface WasmApi {
	Module: new (bytes: Uint8Array) => unknown;
	Instance: new (module: unknown, imports: object) => { exports: Record<string, unknown> };
}

// NOTE: never grow this module's wasm memory, and never detach an ArrayBuffer anywhere in the
// process (ArrayBuffer transfer, postMessage transfer lists): the first detach permanently
// invalidates a V8 protector and slows every typed-array loop by 30-40 %.

function loadWasm(): Wasm | null {
	try {
		// via globalThis so this compiles without the "dom" lib (@types/node 20 lacks WebAssembly)
		const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
		if (typeof WA !== 'object' || WA === null) {
			return null;
		}
		const bytes = Uint8Array.from(atob(WASM_B64), (c) => c.charCodeAt(0));
		const inst = new WA.Instance(new WA.Module(bytes), {});
		const xor = inst.exports['xor'] as (len: number, mask: number) => void;
		const ab = (inst.exports['memory'] as { buffer: ArrayBuffer }).buffer; // never grown: stays attached
		if (ab.byteLength < CHUNK + 64) {
			return null;
		}
		// self-check: covers endianness and the SIMD path end to end
		const t = new Uint8Array(ab, 0, 64);
		t.fill(0xa5);
		xor(64, 0x04030201);
		if (t[0] !== 0xa4 || t[1] !== 0xa7 || t[2] !== 0xa6 || t[63] !== 0xa1) {
			return null;
		}
		return { ab, full: new Uint8Array(ab, 0, CHUNK), xor };
	} catch {
		return null; // no WebAssembly / no SIMD: use the JS word loop
	}
}

// Compiled on first use rather than at import time.
let wasmState: Wasm | null | undefined;
function getWasm(): Wasm | null {
	if (wasmState === undefined) {
		wasmState = loadWasm();
	}
	return wasmState;
}

/** Whether the WebAssembly SIMD path is active (for diagnostics and tests). */
export function isWasmEnabled(): boolean {
	return getWasm() !== null;
}

const s8 = new Uint8Array(4);
const s32 = new Int32Array(s8.buffer);

/** Mask as a native-endian int32 whose first byte in memory is mask[k & 3]!. */
function rotatedWord(mask: Uint8Array, k: number): number {
	s8[0] = mask[k & 3]!;
	s8[1] = mask[(k + 1) & 3]!;
	s8[2] = mask[(k + 2) & 3]!;
	s8[3] = mask[(k + 3) & 3]!;
	return s32[0]!;
}

/** XOR buf[start, end) in place; buf[start] pairs with mask[0]!. */
function xorWords(buf: Uint8Array, start: number, end: number, mask: Uint8Array): void {
	const abs = buf.byteOffset + start;
	const head = Math.min((4 - (abs & 3)) & 3, end - start);
	let i = start;
	for (let k = 0; k < head; k++, i++) {
		buf[i] = buf[i]! ^ mask[k]!;
	}
	const nWords = (end - i) >>> 2;
	if (nWords > 0) {
		const m = rotatedWord(mask, head);
		const w = new Int32Array(buf.buffer, abs + head, nWords);
		const n8 = nWords & ~7;
		let j = 0;
		for (; j < n8; j += 8) {
			w[j] = w[j]! ^ m;
			w[j + 1] = w[j + 1]! ^ m;
			w[j + 2] = w[j + 2]! ^ m;
			w[j + 3] = w[j + 3]! ^ m;
			w[j + 4] = w[j + 4]! ^ m;
			w[j + 5] = w[j + 5]! ^ m;
			w[j + 6] = w[j + 6]! ^ m;
			w[j + 7] = w[j + 7]! ^ m;
		}
		for (; j < nWords; j++) {
			w[j] = w[j]! ^ m;
		}
		i += nWords << 2;
	}
	for (; i < end; i++) {
		buf[i] = buf[i]! ^ mask[(i - start) & 3]!;
	}
}

/** src[sIdx, sIdx+len) ^ mask -> dst[dIdx, ...) through wasm memory. src may equal dst. */
function xorWasm(
	w: Wasm,
	src: Uint8Array,
	sIdx: number,
	dst: Uint8Array,
	dIdx: number,
	len: number,
	mask: Uint8Array,
): void {
	// wasm memory is always little-endian: build the i32 explicitly
	const m = mask[0]! | (mask[1]! << 8) | (mask[2]! << 16) | (mask[3]! << 24);
	const { ab, full, xor } = w;
	const sab = src.buffer;
	const sbo = src.byteOffset + sIdx;
	let pos = 0;
	for (; pos + CHUNK <= len; pos += CHUNK) {
		full.set(new Uint8Array(sab, sbo + pos, CHUNK));
		xor(CHUNK, m);
		dst.set(full, dIdx + pos);
	}
	const n = len - pos;
	if (n > 0) {
		full.set(new Uint8Array(sab, sbo + pos, n));
		xor(n, m);
		dst.set(new Uint8Array(ab, 0, n), dIdx + pos);
	}
}

export function mask(
	source: Uint8Array,
	mask: Uint8Array,
	output: Uint8Array,
	offset: number,
	length: number,
): void {
	if (length < WORD_MIN) {
		for (let i = 0; i < length; i++) {
			output[offset + i] = source[i]! ^ mask[i & 3]!;
		}
		return;
	}
	const sAbs = source.byteOffset;
	const dAbs = output.byteOffset + offset;
	let inPlace = source.buffer === output.buffer && sAbs === dAbs;
	if (!inPlace && source.buffer === output.buffer && sAbs < dAbs + length && dAbs < sAbs + length) {
		output.set(new Uint8Array(source.buffer, sAbs, length), offset); // overlap: memmove first
		inPlace = true;
	}
	const wasm = getWasm();
	if (wasm !== null && length >= MASK_WASM_MIN) {
		if (inPlace) {
			xorWasm(wasm, output, offset, output, offset, length, mask);
		} else {
			xorWasm(wasm, source, 0, output, offset, length, mask);
		}
		return;
	}
	if (!inPlace) {
		output.set(new Uint8Array(source.buffer, sAbs, length), offset);
	}
	xorWords(output, offset, offset + length, mask);
}

export function unmask(buffer: Uint8Array, mask: Uint8Array): void {
	const length = buffer.length;
	if (length < WORD_MIN) {
		for (let i = 0; i < length; i++) {
			buffer[i] = buffer[i]! ^ mask[i & 3]!;
		}
	} else if (length >= UNMASK_WASM_MIN && getWasm() !== null) {
		xorWasm(getWasm()!, buffer, 0, buffer, 0, length, mask);
	} else {
		xorWords(buffer, 0, length, mask);
	}
}
