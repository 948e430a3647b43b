import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageReader } from '../../protocol/message-reader';
import { encodeControl, MessageType } from '../../protocol/wire';
import { runCli, tempDir } from '../helpers/agent-process';

/**
 * Someone else listens where the client expects its agent (security review C5: a local user who
 * bound the port first). It speaks the handshake as well as it can without the token. A Berth
 * client must give it neither the token nor a usable connection, and say so (exit 3).
 */

const TOKEN = 'the-real-token-0123456789abcdef';

/** The impostor: answers the upgrade and every handshake step, and keeps every byte it got. */
async function startImpostor(): Promise<{ port: number; got: Buffer[]; close(): Promise<void> }> {
	const got: Buffer[] = [];
	const sockets = new Set<Socket>();
	const server: Server = createServer((socket) => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		let head = '';
		const reader = new MessageReader();
		let upgraded = false;
		socket.on('data', (chunk: Buffer) => {
			got.push(chunk);
			if (!upgraded) {
				head += chunk.toString('latin1');
				const end = head.indexOf('\r\n\r\n');
				if (end < 0) {
					return;
				}
				upgraded = true;
				socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
				chunk = Buffer.from(head.slice(end + 4), 'latin1');
			}
			reader.feed(chunk);
			for (let m = reader.read(); m; m = reader.read()) {
				if (m.type !== MessageType.Control) {
					continue;
				}
				const message = JSON.parse(Buffer.from(m.payload).toString()) as { type: string };
				if (message.type === 'auth') {
					socket.write(encodeControl({ type: 'sign', data: 'impostor-challenge', signedData: 'whatever' }));
				} else if (message.type === 'connectionType') {
					socket.write(encodeControl({ type: 'ok', signedData: 'a-guess' }));
				}
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		got,
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) {
					s.destroy();
				}
				server.close(() => resolve());
			}),
	};
}

describe('a client that reaches an impostor instead of its agent', () => {
	let impostor: Awaited<ReturnType<typeof startImpostor>>;
	let tokenFile: string;
	before(async () => {
		impostor = await startImpostor();
		tokenFile = join(tempDir(), 'token');
		writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 });
	});
	after(async () => {
		await impostor.close();
	});

	// The raw path: the handshake is the same code over WebSocket frames (client-handshake.ts).
	for (const transport of ['tcp'] as const) {
		it(`gives it neither the token nor a connection, and says so (exit 3), over ${transport}`, async () => {
			impostor.got.length = 0;
			const result = await runCli([
				'forward',
				'-u',
				`ws://127.0.0.1:${impostor.port}`,
				'--token-file',
				tokenFile,
				'--transport',
				transport,
				'-L',
				'0:127.0.0.1:9',
			]);
			assert.equal(result.code, 3, result.stderr);
			assert.match(result.stderr, /did not prove it knows the connection token/);
			assert.ok(impostor.got.length > 0, 'the client did talk to the impostor');
			const received = Buffer.concat(impostor.got).toString('latin1');
			assert.ok(!received.includes(TOKEN), 'the token never reached the impostor');
		});
	}
});
