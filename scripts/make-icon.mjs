// Draws media/icon.png (128x128): a berth seen from above, a quay with a tunnel arrow into it.
// Run `node scripts/make-icon.mjs` to redraw it; no dependencies, PNG written with zlib.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const pixels = Buffer.alloc(SIZE * SIZE * 4);

/** Coverage of a pixel by a shape, 4x4 supersampled so edges are smooth. */
function paint(inside, [r, g, b]) {
	for (let y = 0; y < SIZE; y++) {
		for (let x = 0; x < SIZE; x++) {
			let hits = 0;
			for (let sy = 0; sy < 4; sy++) {
				for (let sx = 0; sx < 4; sx++) {
					if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
				}
			}
			if (hits === 0) continue;
			const a = hits / 16;
			const i = (y * SIZE + x) * 4;
			const under = pixels[i + 3] / 255;
			const out = a + under * (1 - a);
			pixels[i] = Math.round((r * a + pixels[i] * under * (1 - a)) / out);
			pixels[i + 1] = Math.round((g * a + pixels[i + 1] * under * (1 - a)) / out);
			pixels[i + 2] = Math.round((b * a + pixels[i + 2] * under * (1 - a)) / out);
			pixels[i + 3] = Math.round(out * 255);
		}
	}
}

const roundedRect = (x0, y0, x1, y1, radius) => (x, y) => {
	const cx = Math.min(Math.max(x, x0 + radius), x1 - radius);
	const cy = Math.min(Math.max(y, y0 + radius), y1 - radius);
	return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
};
const polygon = (points) => (x, y) => {
	let inside = false;
	for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
		const [xi, yi] = points[i];
		const [xj, yj] = points[j];
		if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
	}
	return inside;
};

paint(roundedRect(4, 4, 124, 124, 24), [14, 99, 156]); // background: VS Code blue
paint(roundedRect(20, 84, 108, 104, 6), [255, 255, 255]); // the quay
for (const x of [30, 58, 86]) paint(roundedRect(x, 96, x + 12, 112, 3), [255, 255, 255]); // its piles
paint(roundedRect(24, 40, 80, 56, 8), [158, 216, 255]); // the tunnel's shaft
paint(
	polygon([
		[76, 26],
		[106, 48],
		[76, 70],
	]),
	[255, 255, 255],
); // and its arrow

const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) pixels.copy(rows, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);

const crcTable = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
const crc32 = (buf) => {
	let c = 0xffffffff;
	for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([length, body, crc]);
};
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
writeFileSync(
	new URL('../media/icon.png', import.meta.url),
	Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', header),
		chunk('IDAT', deflateSync(rows, { level: 9 })),
		chunk('IEND', Buffer.alloc(0)),
	]),
);
