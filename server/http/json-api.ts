import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Timers } from '../../protocol/timers';

/** The largest request body the API reads (a token request and its JSON). */
const MAX_API_BODY_BYTES = 16 * 1024;
/** A client has this long to send its body. */
const API_BODY_TIMEOUT_MS = 10_000;

/**
 * The body, at most MAX_API_BODY_BYTES, within API_BODY_TIMEOUT_MS. A longer one is read to its
 * end and dropped, holding nothing, before it fails: destroying the request would close the
 * socket, and the client would get no answer but a reset.
 */
export function readBody(req: IncomingMessage, timers: Timers): Promise<string> {
	return new Promise((resolve, reject) => {
		let chunks: Buffer[] | undefined = [];
		let size = 0;
		const timer = timers.timeout(
			() => fail(new Error('the body did not arrive in time')),
			API_BODY_TIMEOUT_MS,
		);
		const fail = (error: Error): void => {
			timer.dispose();
			req.destroy();
			reject(error);
		};
		req.on('data', (chunk: Buffer) => {
			size += chunk.byteLength;
			if (size > MAX_API_BODY_BYTES) {
				chunks = undefined;
			} else {
				chunks?.push(chunk);
			}
		});
		req.on('end', () => {
			timer.dispose();
			if (chunks) {
				resolve(Buffer.concat(chunks).toString('utf8'));
			} else {
				reject(new Error(`over ${MAX_API_BODY_BYTES} bytes`));
			}
		});
		req.on('error', fail);
	});
}

export function notAllowed(res: ServerResponse, allow: string): void {
	res.setHeader('Allow', allow);
	json(res, 405, { error: `use ${allow}` });
}

export function json(res: ServerResponse, status: number, value: unknown): void {
	res.setHeader('Content-Type', 'application/json; charset=utf-8');
	res.writeHead(status);
	res.end(JSON.stringify(value) + '\n');
}
