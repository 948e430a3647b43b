import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	ASKPASS_ENV,
	MAX_ASKPASS_LINE_BYTES,
	formatAskpassMessage,
	isAskpassAnswer,
	parseAskpassRequest,
	type AskpassMode,
	type AskpassReply,
} from '../../protocol/askpass';
import { Disposable, toDisposable, type IDisposable } from '../../protocol/lifecycle';

/** A question ssh asks through the helper, and the host whose connection asks it. */
export interface AskpassQuestion {
	/** The host as the user named it (the ticket's label, never the helper's word). */
	readonly host: string;
	/** ssh's prompt as it wrote it: untrusted text (a server writes keyboard-interactive prompts). */
	readonly prompt: string;
	readonly mode: AskpassMode;
}

/**
 * Asks the user: resolves with the answer (for `confirm`: '' for yes), or undefined when they
 * cancel. `signal` aborts when the helper is gone (ssh gave up or was ended): the question closes.
 */
export type AskpassHandler = (question: AskpassQuestion, signal: AbortSignal) => Promise<string | undefined>;

/** What the server needs. */
export interface AskpassOptions {
	/** The Node.js that runs the helper: the extension host's own (process.execPath). */
	readonly nodePath: string;
	/** The helper, dist/askpass.js. */
	readonly mainPath: string;
	readonly ask: AskpassHandler;
}

/** The environment one ssh connection gets for its prompts; disposing it refuses its ticket. */
export interface AskpassTicket extends IDisposable {
	readonly env: Readonly<Record<string, string>>;
}

/** The launcher ssh runs: the helper under the extension host's Node.js (an Electron binary in desktop VS Code). */
const LAUNCHER = `#!/bin/sh
# Berth's ssh askpass: asks in VS Code, through the extension's socket beside this file.
ELECTRON_RUN_AS_NODE=1 exec "$${ASKPASS_ENV.node}" "$${ASKPASS_ENV.main}" "$@"
`;
/** Random bytes in a ticket (base64url: 32 characters). */
const TICKET_BYTES = 24;
/** Helpers connected at once at most: each holds a socket, and only one question shows at a time. */
const MAX_CONNECTIONS = 32;

/**
 * The extension's side of ssh's askpass (VS Code's git extension does the same for git): a unix
 * socket in a fresh folder of mode 0700 (so only this user reaches it) with a launcher beside it.
 * Each ssh connection gets a ticket (`open`) naming its host; a helper that presents no live
 * ticket gets no question shown. Questions are asked one at a time, in order. Disposing it closes
 * the socket, cancels what is asked and removes the folder.
 */
export class AskpassServer extends Disposable {
	private readonly tickets = new Map<string, string>();
	private readonly sockets = new Set<Socket>();
	private queue: Promise<unknown> = Promise.resolve();
	private waiting = 0;

	private constructor(
		private readonly options: AskpassOptions,
		private readonly dir: string,
		server: Server,
	) {
		super();
		server.on('connection', (socket) => this.accept(socket));
		this._register(
			toDisposable(() => {
				this.tickets.clear();
				for (const socket of this.sockets) {
					socket.destroy();
				}
				server.close();
				rmSync(dir, { recursive: true, force: true });
			}),
		);
	}

	/** Creates the folder, the launcher and the socket. @throws the file system's or the socket's error. */
	static async start(options: AskpassOptions): Promise<AskpassServer> {
		const dir = mkdtempSync(join(tmpdir(), 'berth-askpass-'));
		try {
			chmodSync(dir, 0o700);
			writeFileSync(join(dir, 'askpass.sh'), LAUNCHER, { mode: 0o700 });
			const server = createServer();
			server.maxConnections = MAX_CONNECTIONS;
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(join(dir, 's'), () => resolve());
			});
			chmodSync(join(dir, 's'), 0o600);
			return new AskpassServer(options, dir, server);
		} catch (error) {
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
	}

	/** Questions received and not answered yet: the one shown, and those waiting for their turn. */
	get pending(): number {
		return this.waiting;
	}

	/**
	 * A ticket for one ssh connection to `host`: the environment to give ssh (SSH_ASKPASS and
	 * SSH_ASKPASS_REQUIRE=force, so that ssh asks through the helper although it has no terminal).
	 */
	open(host: string): AskpassTicket {
		const ticket = randomBytes(TICKET_BYTES).toString('base64url');
		this.tickets.set(ticket, host);
		return {
			env: {
				SSH_ASKPASS: join(this.dir, 'askpass.sh'),
				SSH_ASKPASS_REQUIRE: 'force',
				// ssh before 8.4 ignores SSH_ASKPASS_REQUIRE and asks through askpass only with a DISPLAY.
				DISPLAY: process.env['DISPLAY'] || 'berth-askpass:0',
				[ASKPASS_ENV.socket]: join(this.dir, 's'),
				[ASKPASS_ENV.ticket]: ticket,
				[ASKPASS_ENV.node]: this.options.nodePath,
				[ASKPASS_ENV.main]: this.options.mainPath,
			},
			dispose: () => this.tickets.delete(ticket),
		};
	}

	private accept(socket: Socket): void {
		this.sockets.add(socket);
		const aborted = new AbortController();
		socket.on('close', () => {
			this.sockets.delete(socket);
			aborted.abort();
		});
		socket.on('error', () => undefined); // a helper that went away: 'close' follows
		let received = '';
		socket.setEncoding('utf8');
		const onData = (chunk: string): void => {
			received += chunk;
			const end = received.indexOf('\n');
			if (end < 0 && received.length <= MAX_ASKPASS_LINE_BYTES) {
				return;
			}
			socket.off('data', onData);
			void this.answer(socket, end < 0 ? '' : received.slice(0, end), aborted.signal);
		};
		socket.on('data', onData);
	}

	/** Asks the question of one request line (after the ones before it), and replies. */
	private async answer(socket: Socket, line: string, signal: AbortSignal): Promise<void> {
		const request = parseAskpassRequest(line);
		const host = request && this.tickets.get(request.ticket);
		let reply: AskpassReply = { type: 'cancel' };
		if (request && host !== undefined) {
			this.waiting++;
			const asked = this.queue.then(() =>
				signal.aborted
					? undefined
					: this.options.ask({ host, prompt: request.prompt, mode: request.mode }, signal),
			);
			this.queue = asked.catch(() => undefined);
			const value = await asked.catch(() => undefined);
			this.waiting--;
			if (value !== undefined && isAskpassAnswer(value)) {
				reply = { type: 'answer', value };
			}
		}
		if (!socket.destroyed) {
			socket.end(formatAskpassMessage(reply));
		}
	}
}
