/**
 * The load client, the same for every path: it talks to the echo server through 127.0.0.1:PORT
 * and prints its results as JSON lines on stdout.
 *
 *   pingpong PORT WARMUP COUNT       one connection, 1-byte round trips; {"p50":µs,"p99":µs,...}
 *   connect PORT WARMUP COUNT        new connection, 1 byte, echoed byte, close; one after another
 *                                    (WARMUP untimed ones first, as for ping-pong)
 *   idle PORT STAGE[,STAGE...] CONC  opens connections (CONC at a time), each proven by a 1-byte
 *                                    echo, and keeps them open; after each stage prints
 *                                    {"stage":N,"open":n,...} and waits for a line on stdin;
 *                                    after the last, a line (or EOF) closes them all and exits.
 *
 * Each mode takes one more, optional argument, TARGET: then PORT is a SOCKS5 proxy, and every
 * connection first asks it for 127.0.0.1:TARGET (socks5.ts); a connection's time includes that.
 */
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { echoOnce, ONE, openSocket } from './echo-socket';
import { microseconds, summarize } from './samples';
import { socksConnect } from './socks5';

/** Opens one connection that leads to the echo server, ready for data. */
type Dial = () => Promise<Socket>;

function print(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}

/** Connections to `port`, or through the SOCKS5 proxy on `port` to `socksTarget`. */
function dialer(port: number, socksTarget: number | undefined): Dial {
	if (socksTarget === undefined) {
		return () => openSocket(port);
	}
	return async () => {
		const socket = await openSocket(port);
		try {
			await socksConnect(socket, socksTarget);
		} catch (error) {
			socket.destroy();
			throw error;
		}
		return socket;
	};
}

async function pingpong(dial: Dial, warmup: number, count: number): Promise<void> {
	const socket = await dial();
	socket.on('error', (error) => fail(error));
	const samples = new Float64Array(count);
	await new Promise<void>((resolve) => {
		let done = 0;
		let pending = 0;
		let started = process.hrtime.bigint();
		const send = (): void => {
			started = process.hrtime.bigint();
			socket.write(ONE);
		};
		socket.on('data', (chunk: Buffer) => {
			const now = process.hrtime.bigint();
			pending += chunk.length;
			if (pending < 1) {
				return;
			}
			pending -= 1;
			if (done >= warmup) {
				samples[done - warmup] = microseconds(started, now);
			}
			done++;
			if (done < warmup + count) {
				send();
			} else {
				resolve();
			}
		});
		socket.once('close', () => fail(new Error(`the connection closed after ${done} round trips`)));
		send();
	});
	socket.removeAllListeners('close');
	socket.destroy();
	print(summarize(samples));
}

async function connectMany(dial: Dial, warmup: number, count: number): Promise<void> {
	const samples = new Float64Array(count);
	for (let i = -warmup; i < count; i++) {
		const started = process.hrtime.bigint();
		let socket: Socket | undefined;
		try {
			socket = await dial();
			await echoOnce(socket);
		} catch (error) {
			fail(new Error(`connection ${i + 1} of ${count}: ${(error as Error).message}`));
		}
		if (i >= 0) {
			samples[i] = microseconds(started, process.hrtime.bigint());
		}
		socket.destroy();
	}
	print(summarize(samples));
}

async function idle(dial: Dial, stages: number[], concurrency: number): Promise<void> {
	const sockets: Socket[] = [];
	let dropped = 0;
	let failed = 0;
	let firstError: string | undefined;
	let stopped = false;
	const lines = createInterface({ input: process.stdin });
	const nextLine = (): Promise<void> =>
		new Promise((resolve) => {
			lines.once('line', () => resolve());
			lines.once('close', () => resolve());
		});

	const openOne = async (): Promise<void> => {
		let socket: Socket | undefined;
		try {
			socket = await dial();
			await echoOnce(socket);
		} catch (error) {
			socket?.destroy();
			failed++;
			firstError ??= `${(error as Error).message} (after ${sockets.length} open)`;
			stopped = true;
			return;
		}
		socket.on('error', () => undefined);
		socket.once('close', () => {
			if (!closing) {
				dropped++;
			}
		});
		sockets.push(socket);
	};

	let closing = false;
	const started = Date.now();
	for (const stage of stages) {
		// `concurrency` workers, each opening one connection after another until the stage is reached.
		let next = sockets.length;
		const worker = async (): Promise<void> => {
			while (!stopped && next < stage) {
				next++;
				await openOne();
			}
		};
		await Promise.all(Array.from({ length: concurrency }, worker));
		print({
			stage,
			open: sockets.length - dropped,
			opened: sockets.length,
			failed,
			dropped,
			seconds: (Date.now() - started) / 1000,
			...(firstError !== undefined ? { error: firstError } : {}),
		});
		await nextLine();
	}
	closing = true;
	for (const socket of sockets) {
		socket.destroy();
	}
	print({ closed: sockets.length });
	process.exit(0);
}

function fail(error: Error): never {
	print({ error: error.message });
	process.exit(1);
}

function main(): Promise<void> {
	const [mode, ...args] = process.argv.slice(2);
	const socksTarget = args[3] === undefined ? undefined : Number(args[3]);
	const dial = dialer(Number(args[0]), socksTarget);
	switch (mode) {
		case 'pingpong':
			return pingpong(dial, Number(args[1]), Number(args[2]));
		case 'connect':
			return connectMany(dial, Number(args[1]), Number(args[2]));
		case 'idle':
			return idle(dial, (args[1] ?? '').split(',').map(Number), Number(args[2] ?? 64));
		default:
			return Promise.reject(new Error(`unknown mode ${mode}`));
	}
}

main().catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
