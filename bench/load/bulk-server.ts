/**
 * The bulk server the parallel-streams case and the soak talk to through their paths: it sends
 * or checks pattern bytes as each connection asks (bench/load/bulk-protocol.ts). Prints
 * `bulk listening on PORT` once ready; runs until killed.
 * Usage: node --import tsx bench/load/bulk-server.ts
 */
import { createServer, type Socket } from 'node:net';
import {
	decodeRequest,
	GO,
	READY,
	REQUEST_BYTES,
	UPLOAD_BAD,
	UPLOAD_OK,
	UPLOAD_PROGRESS,
	UPLOAD_PROGRESS_BYTES,
	type BulkRequest,
} from './bulk-protocol';
import { matchesPattern, patternBlock, patternStart } from './pattern';
import { writePattern } from './pattern-writer';

const LISTEN_BACKLOG = 4096;

const block = patternBlock();

/** Sends `size` pattern bytes of transfer `id`, then ends the socket. */
function sendPattern(socket: Socket, request: BulkRequest): void {
	writePattern(socket, block, patternStart(request.id), request.size, () => socket.end());
}

/** Checks an upload as it arrives, confirming progress; answers the last byte, then closes. */
function checkUpload(socket: Socket, request: BulkRequest): (chunk: Buffer) => void {
	let received = 0;
	const start = patternStart(request.id);
	return (chunk) => {
		const ok = received + chunk.length <= request.size && matchesPattern(block, chunk, start + received);
		const units =
			Math.floor((received + chunk.length) / UPLOAD_PROGRESS_BYTES) -
			Math.floor(received / UPLOAD_PROGRESS_BYTES);
		received += chunk.length;
		if (!ok) {
			socket.end(Buffer.from([UPLOAD_BAD]));
			socket.removeAllListeners('data');
			return;
		}
		if (units > 0) {
			socket.write(Buffer.alloc(units, UPLOAD_PROGRESS));
		}
		if (received === request.size) {
			socket.end(Buffer.from([UPLOAD_OK]));
		}
	};
}

function serve(socket: Socket): void {
	socket.on('error', () => undefined);
	let head = Buffer.alloc(0);
	let onBody: ((chunk: Buffer) => void) | undefined;
	socket.on('data', (chunk: Buffer) => {
		if (onBody !== undefined) {
			onBody(chunk);
			return;
		}
		head = Buffer.concat([head, chunk]);
		if (head.length < REQUEST_BYTES) {
			return;
		}
		const request = decodeRequest(head);
		if (request === undefined) {
			socket.destroy();
			return;
		}
		socket.write(Buffer.from([READY]));
		onBody = request.mode === 'upload' ? checkUpload(socket, request) : awaitGo(socket, request);
		const rest = head.subarray(REQUEST_BYTES);
		if (rest.length > 0) {
			onBody(rest);
		}
	});
}

/** A download starts at the client's GO; anything else from it is a protocol error. */
function awaitGo(socket: Socket, request: BulkRequest): (chunk: Buffer) => void {
	let started = false;
	return (chunk) => {
		if (started || chunk.length !== 1 || chunk[0] !== GO) {
			socket.destroy();
			return;
		}
		started = true;
		sendPattern(socket, request);
	};
}

const server = createServer({ noDelay: true }, serve);
server.on('error', (error) => console.error(`bulk server: ${error.message}`));
server.listen({ host: '127.0.0.1', port: 0, backlog: LISTEN_BACKLOG }, () => {
	const address = server.address();
	console.log(`bulk listening on ${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => process.exit(0));
