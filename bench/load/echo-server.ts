/**
 * The echo server every latency, setup and idle case talks to through its path: each connection
 * gets back exactly what it sends. Prints `echo listening on PORT` once ready; runs until killed.
 * Usage: node --import tsx bench/load/echo-server.ts
 */
import { createServer } from 'node:net';

const server = createServer({ noDelay: true, allowHalfOpen: false }, (socket) => {
	socket.on('error', () => undefined);
	socket.pipe(socket);
});
server.on('error', (error) => {
	console.error(`echo server: ${error.message}`);
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
	const address = server.address();
	console.log(`echo listening on ${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => process.exit(0));
