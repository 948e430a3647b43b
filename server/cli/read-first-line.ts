import type { Readable } from 'node:stream';
import { BerthError } from '../../protocol/errors';

const NEWLINE = 0x0a;

/**
 * Reads `input` asynchronously up to its first newline (kept) or its end, however slowly the bytes
 * come and in however many pieces: `ssh host cat token | berth forward …` writes late. At most
 * `maxBytes` are held; more before a newline is refused. The rest of the input is left unread.
 * A synchronous read cannot do this: once `process.stdin` exists, fd 0 is non-blocking and a read
 * before the producer wrote fails with EAGAIN.
 * @param what Names the input in messages, e.g. `stdin`.
 * @throws BerthError BERTH_ERR_TOKEN past `maxBytes`, or when the input fails.
 */
export function readFirstLine(input: Readable, maxBytes: number, what: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let length = 0;
		const finish = (error: BerthError | undefined): void => {
			input.off('data', onData).off('end', onEnd).off('error', onError);
			input.pause();
			// What is left unread is no longer ours: a late failure of it must not crash the process.
			input.on('error', () => undefined);
			if (error) {
				reject(error);
			} else {
				resolve(Buffer.concat(chunks).toString('utf8'));
			}
		};
		const onData = (chunk: Buffer | string): void => {
			const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
			const newline = bytes.indexOf(NEWLINE);
			const piece = newline >= 0 ? bytes.subarray(0, newline + 1) : bytes;
			if (length + piece.length > maxBytes) {
				finish(
					new BerthError(
						'BERTH_ERR_TOKEN',
						`${what} holds more than ${maxBytes / 1024} KiB before a newline, which no connection token does`,
					),
				);
				return;
			}
			chunks.push(piece);
			length += piece.length;
			if (newline >= 0) {
				finish(undefined);
			}
		};
		const onEnd = (): void => finish(undefined);
		const onError = (error: Error): void =>
			finish(
				new BerthError('BERTH_ERR_TOKEN', `cannot read ${what}: ${error.message}`, undefined, {
					cause: error,
				}),
			);
		input.on('data', onData).on('end', onEnd).on('error', onError);
		input.resume();
	});
}
