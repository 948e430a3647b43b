/**
 * One client connection to the bulk server (bench/load/bulk-protocol.ts): `open()` connects and
 * waits for READY (proof that the path reaches the server), `start()` begins the transfer, and
 * `finished` settles once every byte arrived and matched (download) or the server confirmed
 * every byte (upload), or with a BulkError saying what went wrong. A timed transfer (size
 * UNLIMITED) ends with `stop()`; `moved` then says how many bytes were checked.
 */
import { connect, type Socket } from 'node:net';
import {
	encodeRequest,
	GO,
	READY,
	UPLOAD_BAD,
	UPLOAD_OK,
	UPLOAD_PROGRESS,
	UPLOAD_PROGRESS_BYTES,
	UNLIMITED,
	type BulkMode,
} from './bulk-protocol';
import { matchesPattern, patternStart } from './pattern';
import { writePattern, type PatternWrite } from './pattern-writer';

/** What went wrong, as counted by the load programs. */
export type BulkErrorCode = 'connect' | 'reset' | 'closed' | 'mismatch' | 'timeout' | 'protocol';

export class BulkError extends Error {
	constructor(
		readonly code: BulkErrorCode,
		message: string,
	) {
		super(message);
	}
}

type Phase = 'new' | 'opening' | 'ready' | 'running' | 'done' | 'failed';

export class BulkConnection {
	readonly finished: Promise<void>;
	/** Bytes checked so far: received and matched (download), or confirmed by the server (upload). */
	moved = 0;
	/** Why it failed, once it has. */
	failure: BulkError | undefined;
	/** Upload: how far writing has got. */
	private upload: PatternWrite | undefined;
	/** process.hrtime.bigint() at start() and when finished. */
	startedAt = 0n;
	endedAt = 0n;
	private phase: Phase = 'new';
	private socket: Socket | undefined;
	private settle!: (error?: BulkError) => void;
	private onReady: ((error?: BulkError) => void) | undefined;
	private readonly start0: number;

	constructor(
		private readonly port: number,
		readonly id: number,
		readonly mode: BulkMode,
		readonly size: number,
		private readonly block: Buffer,
	) {
		this.start0 = patternStart(id);
		this.finished = new Promise<void>((resolve, reject) => {
			this.settle = (error) => (error ? reject(error) : resolve());
		});
		// A connection that fails before anyone awaits `finished` must not be an unhandled rejection.
		this.finished.catch(() => undefined);
	}

	/** Connects, sends the request and resolves at READY. */
	open(): Promise<void> {
		this.phase = 'opening';
		const socket = connect({ host: '127.0.0.1', port: this.port, noDelay: true });
		this.socket = socket;
		socket.on('data', (chunk: Buffer) => this.onData(chunk));
		socket.on('error', (error: NodeJS.ErrnoException) =>
			this.fail(
				this.phase === 'opening' && error.code !== 'ECONNRESET' ? 'connect' : 'reset',
				`${error.code ?? 'error'}: ${error.message}`,
			),
		);
		socket.on('end', () => this.onEnd());
		socket.on('close', () => this.fail('closed', 'the connection closed'));
		socket.write(encodeRequest({ mode: this.mode, size: this.size, id: this.id }));
		return new Promise((resolve, reject) => {
			this.onReady = (error) => (error ? reject(error) : resolve());
		});
	}

	/** Starts the transfer (after open() resolved). */
	start(): void {
		if (this.phase !== 'ready') {
			return;
		}
		this.phase = 'running';
		this.startedAt = process.hrtime.bigint();
		if (this.mode === 'download') {
			this.socket!.write(Buffer.from([GO]));
		} else {
			this.upload = writePattern(this.socket!, this.block, this.start0, this.size, () => undefined);
		}
	}

	get done(): boolean {
		return this.phase === 'done';
	}

	/** Ends it as failed with `code` (e.g. a timeout) and closes the socket. */
	fail(code: BulkErrorCode, message: string): void {
		if (this.phase === 'done' || this.phase === 'failed') {
			return;
		}
		const was = this.phase;
		this.phase = 'failed';
		this.socket?.destroy();
		const error = new BulkError(code, `${message} (${this.describe(was)})`);
		this.failure = error;
		this.onReady?.(error);
		this.onReady = undefined;
		this.settle(error);
	}

	/** Aborts with a TCP RST, on purpose: `finished` rejects with code 'reset'. */
	abort(): void {
		// Also while connecting: Node then sends the RST as soon as the connection is up.
		if (this.socket !== undefined && !this.socket.destroyed) {
			this.socket.resetAndDestroy();
		}
		this.fail('reset', 'aborted on purpose');
	}

	/** Ends a transfer that is running as a success where it stands (timed runs), and closes. */
	stop(): void {
		if (this.phase === 'running') {
			this.succeed();
		}
		this.close();
	}

	/** Closes the socket (a finished or failed connection's resources). */
	close(): void {
		this.socket?.destroy();
	}

	/** Upload: bytes handed to the socket so far. */
	private get written(): number {
		return this.upload?.written ?? 0;
	}

	private describe(phase: Phase): string {
		const of = this.size === UNLIMITED ? '' : ` of ${this.size}`;
		return `transfer ${this.id}, ${this.mode}, ${phase}, ${this.moved}${of} bytes checked`;
	}

	private onData(chunk: Buffer): void {
		if (this.phase === 'opening') {
			if (chunk[0] !== READY) {
				this.fail('protocol', `expected READY, got byte ${chunk[0]}`);
				return;
			}
			this.phase = 'ready';
			this.onReady?.();
			this.onReady = undefined;
			chunk = chunk.subarray(1);
			if (chunk.length === 0) {
				return;
			}
		}
		if (this.phase !== 'running') {
			this.fail('protocol', `${chunk.length} unexpected bytes`);
		} else if (this.mode === 'upload') {
			this.onUploadAnswer(chunk);
		} else if (this.moved + chunk.length > this.size) {
			this.fail('mismatch', `${this.moved + chunk.length - this.size} bytes too many`);
		} else if (!matchesPattern(this.block, chunk, this.start0 + this.moved)) {
			this.fail('mismatch', `wrong bytes in ${chunk.length} received at offset ${this.moved}`);
		} else {
			this.moved += chunk.length;
			if (this.moved === this.size) {
				this.succeed();
			}
		}
	}

	private onUploadAnswer(chunk: Buffer): void {
		for (const byte of chunk) {
			if (byte === UPLOAD_PROGRESS && this.moved + UPLOAD_PROGRESS_BYTES <= this.written) {
				this.moved += UPLOAD_PROGRESS_BYTES;
			} else if (byte === UPLOAD_OK && this.written === this.size) {
				this.moved = this.size;
				this.succeed();
				return;
			} else if (byte === UPLOAD_BAD) {
				this.fail('mismatch', 'the server found wrong bytes in the upload');
				return;
			} else {
				this.fail('protocol', `unexpected answer ${byte} to the upload`);
				return;
			}
		}
	}

	private onEnd(): void {
		if (this.phase !== 'done') {
			this.fail('closed', 'the server side ended early');
		}
	}

	private succeed(): void {
		this.phase = 'done';
		this.endedAt = process.hrtime.bigint();
		this.settle();
	}
}
