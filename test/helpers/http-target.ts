import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A node:http server to forward to, and a client that talks to it through a forward. */

/** The HTTP target: GET /hello answers a greeting, POST /sha256 answers the body's SHA-256. */
export async function startHttpTarget(): Promise<{ port: number; server: Server; close(): void }> {
	const server = createServer((req, res) => {
		if (req.method === 'GET' && req.url === '/hello') {
			res.end('hello from the target');
			return;
		}
		if (req.method === 'POST' && req.url === '/sha256') {
			const hash = createHash('sha256');
			let bytes = 0;
			req.on('data', (chunk: Buffer) => {
				hash.update(chunk);
				bytes += chunk.byteLength;
			});
			req.on('end', () => res.end(`${bytes} ${hash.digest('hex')}`));
			return;
		}
		res.statusCode = 404;
		res.end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		server,
		close: () => {
			server.closeAllConnections();
			server.close();
		},
	};
}

export interface HttpAnswer {
	readonly status: number;
	readonly body: string;
}

/** GET `path` (or POST `body` to it) on 127.0.0.1:port, on a connection of its own. */
export function httpThrough(port: number, path: string, body?: Buffer): Promise<HttpAnswer> {
	return new Promise((resolve, reject) => {
		const req = request(
			{ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent: false },
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
				res.on('error', reject);
			},
		);
		req.on('error', reject);
		req.end(body);
	});
}
