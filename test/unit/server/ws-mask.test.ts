import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isWasmEnabled, mask, unmask } from '../../../server/shared/transport/ws-mask';

function naive(source: Uint8Array, key: Uint8Array): Uint8Array {
	return source.map((b, i) => b ^ key[i & 3]!);
}

describe('ws-mask (the bufferutil stand-in)', () => {
	it('runs the WebAssembly SIMD path on this Node', () => assert.equal(isWasmEnabled(), true));

	const lengths = [
		0, 1, 3, 4, 5, 31, 32, 33, 100, 511, 512, 513, 1023, 1024, 1025, 16383, 16384, 16385, 70001,
	];
	for (const length of lengths) {
		it(`masks and unmasks ${length} bytes like the byte loop, at every alignment`, () => {
			const key = randomBytes(4);
			for (const sourceOffset of [0, 1, 3]) {
				for (const outputOffset of [0, 2, 14]) {
					const backing = randomBytes(length + 8);
					const source = backing.subarray(sourceOffset, sourceOffset + length);
					const before = Buffer.from(source);
					const output = Buffer.alloc(length + outputOffset + 4, 0xee);
					mask(source, key, output, outputOffset, length);
					assert.deepEqual(
						output.subarray(outputOffset, outputOffset + length),
						Buffer.from(naive(before, key)),
					);
					assert.equal(output[outputOffset + length], 0xee, 'no write past the end');
					assert.deepEqual(Buffer.from(source), before, 'the source is unchanged');
					const inPlace = Buffer.from(before);
					unmask(inPlace.subarray(0), key);
					assert.deepEqual(inPlace, Buffer.from(naive(before, key)));
				}
			}
		});
	}
});
