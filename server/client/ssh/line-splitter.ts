/**
 * Splits a byte stream into lines of at most `maxBytes` (without the newline): a longer line is
 * dropped whole, so a peer that never sends a newline costs at most `maxBytes` of memory.
 */
export function createLineSplitter(
	maxBytes: number,
	onLine: (line: string) => void,
): (chunk: Buffer) => void {
	let pending: Buffer[] = [];
	let pendingBytes = 0;
	let overlong = false;
	return (chunk) => {
		let start = 0;
		for (let end = chunk.indexOf(10, start); end >= 0; end = chunk.indexOf(10, start)) {
			const piece = chunk.subarray(start, end);
			if (!overlong && pendingBytes + piece.byteLength <= maxBytes) {
				onLine(
					Buffer.concat([...pending, piece])
						.toString('utf8')
						.replace(/\r$/, ''),
				);
			}
			pending = [];
			pendingBytes = 0;
			overlong = false;
			start = end + 1;
		}
		const rest = chunk.subarray(start);
		if (overlong || rest.byteLength === 0) {
			return;
		}
		if (pendingBytes + rest.byteLength > maxBytes) {
			pending = [];
			pendingBytes = 0;
			overlong = true;
			return;
		}
		pending.push(Buffer.from(rest));
		pendingBytes += rest.byteLength;
	};
}
