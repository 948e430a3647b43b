import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (for programs that cannot pick port 0). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen({ host: '127.0.0.1', port: 0 }, () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** Whether some socket listens on `port` (any address), from /proc/net/tcp and tcp6: no connection made. */
export function isListening(port: number): boolean {
	const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let text: string;
		try {
			text = readFileSync(file, 'latin1');
		} catch {
			continue;
		}
		for (const line of text.split('\n')) {
			const fields = line.trim().split(/\s+/);
			// sl local_address rem_address st ...; st 0A is LISTEN
			if (fields[1]?.endsWith(hex) && fields[3] === '0A') {
				return true;
			}
		}
	}
	return false;
}

/** Waits until `port` listens; `failure` says why to give up early (e.g. the process died). */
export async function waitListening(
	port: number,
	timeoutMs: number,
	failure: () => string | undefined,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (isListening(port)) {
			return;
		}
		const reason = failure();
		if (reason !== undefined) {
			throw new Error(reason);
		}
		if (Date.now() > deadline) {
			throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
		}
		await sleep(25);
	}
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
