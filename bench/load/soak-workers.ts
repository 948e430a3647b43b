/**
 * The soak's three loads on one forwarded port, all against the bulk server and all checked byte
 * by byte (bench/load/bulk-connection.ts):
 *
 * - idle: connections opened at the start and held, each proven by READY, checked at the end
 *   with a small download;
 * - bulk: streams that each move BULK_BYTES after BULK_BYTES, downloads and uploads in turn;
 * - churn: workers that open short connections one after another: short downloads and uploads,
 *   connections aborted with a TCP RST (while connecting, during a download, during an upload),
 *   and connections held idle for a moment before their download.
 *
 * Every failure we did not cause is counted by its code; RSTs we sent are not failures.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkConnection, BulkError } from './bulk-connection';
import type { BulkMode } from './bulk-protocol';

const MiB = 1024 * 1024;
const BULK_BYTES = 8 * MiB;
const BULK_TIMEOUT_MS = 120_000;
const CHURN_BYTES = 4 * 1024;
/** Large enough that the RST usually lands mid-transfer. */
const ABORTED_BYTES = 1 * MiB;
/** An abort comes this many ms (0 up to it, varying) after the transfer started. */
const ABORT_SPREAD_MS = 10;
const HOLD_MS = 1_000;
const CHURN_TIMEOUT_MS = 30_000;
const IDLE_CHECK_BYTES = 64 * 1024;
const OPEN_TIMEOUT_MS = 30_000;
const ERRORS_KEPT = 5;

type ChurnKind =
	'short-download' | 'short-upload' | 'rst-connecting' | 'rst-download' | 'rst-upload' | 'hold';
/** One round of every worker's rotation: mostly short connections, 30 % aborted, 10 % held. */
const CHURN_ROTATION: readonly ChurnKind[] = [
	'short-download',
	'short-download',
	'rst-connecting',
	'short-upload',
	'short-download',
	'rst-download',
	'short-download',
	'hold',
	'short-download',
	'rst-upload',
];

/** The load in words, for bench/SOAK.md (from the constants above, so it cannot drift). */
export function describeLoad(idle: number, bulkStreams: number, churnWorkers: number): string[] {
	const count = (kind: ChurnKind): number => CHURN_ROTATION.filter((k) => k === kind).length;
	const kb = (bytes: number): string => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`);
	return [
		`${idle} idle connections, opened first and held the whole run; at the end each must still carry a ${kb(IDLE_CHECK_BYTES)} download;`,
		`${bulkStreams} bulk streams, each moving ${kb(BULK_BYTES)} after ${kb(BULK_BYTES)}, downloads and uploads in turn;`,
		`${churnWorkers} churn workers, each opening one connection after another; of every ${CHURN_ROTATION.length}: ` +
			`${count('short-download')} short downloads and ${count('short-upload')} short upload of ${kb(CHURN_BYTES)}, ` +
			`${count('hold')} held idle ${HOLD_MS / 1000} s before its ${kb(CHURN_BYTES)} download, and ` +
			`${count('rst-connecting') + count('rst-download') + count('rst-upload')} aborted with a TCP RST ` +
			`(while connecting, and 0–${ABORT_SPREAD_MS - 1} ms into a ${kb(ABORTED_BYTES)} download or upload).`,
	];
}

/** What the load did so far; printed as JSON. */
export interface SoakCounters {
	/** Connections finished, of every kind (including the ones we aborted on purpose). */
	connections: number;
	short: number;
	aborted: number;
	held: number;
	bulk: number;
	/** Bytes checked (downloads received and matched, uploads confirmed by the server). */
	bytes: number;
	/** Failures we did not cause, by code (connect, reset, closed, mismatch, timeout, protocol). */
	errors: Record<string, number>;
	mismatches: number;
	firstErrors: string[];
	idleOpen: number;
}

export class SoakLoad {
	readonly counters: SoakCounters = {
		connections: 0,
		short: 0,
		aborted: 0,
		held: 0,
		bulk: 0,
		bytes: 0,
		errors: {},
		mismatches: 0,
		firstErrors: [],
		idleOpen: 0,
	};
	private stopping = false;
	private nextId = 0;
	private readonly idle: BulkConnection[] = [];
	private readonly loops: Promise<void>[] = [];

	constructor(
		private readonly port: number,
		private readonly block: Buffer,
	) {}

	/** Opens `count` idle connections (all of them, or throws). */
	async openIdle(count: number): Promise<void> {
		for (let i = 0; i < count; i++) {
			const conn = this.connection('download', IDLE_CHECK_BYTES);
			await this.deadline(conn, OPEN_TIMEOUT_MS, conn.open());
			conn.finished.catch((error: unknown) => this.record(error));
			this.idle.push(conn);
		}
		this.counters.idleOpen = this.idle.length;
	}

	/** Starts the bulk streams and churn workers; they run until stop(). */
	start(bulkStreams: number, churnWorkers: number): void {
		for (let i = 0; i < bulkStreams; i++) {
			this.loops.push(this.bulkLoop(i));
		}
		for (let i = 0; i < churnWorkers; i++) {
			this.loops.push(this.churnLoop(i));
		}
	}

	/** Lets every loop finish its current connection, then checks and closes the idle ones. */
	async stop(): Promise<{ idleChecked: number; idleFailed: number }> {
		this.stopping = true;
		await Promise.all(this.loops);
		const alive = this.idle.filter((c) => c.failure === undefined);
		const results = await Promise.allSettled(
			alive.map((conn) => {
				conn.start();
				return this.deadline(conn, CHURN_TIMEOUT_MS, conn.finished);
			}),
		);
		for (const conn of this.idle) {
			conn.close();
		}
		const checked = results.filter((r) => r.status === 'fulfilled').length;
		this.counters.bytes += checked * IDLE_CHECK_BYTES;
		this.counters.connections += this.idle.length;
		this.counters.idleOpen = 0;
		return { idleChecked: checked, idleFailed: this.idle.length - checked };
	}

	private async bulkLoop(stream: number): Promise<void> {
		for (let round = 0; !this.stopping; round++) {
			const mode: BulkMode = (stream + round) % 2 === 0 ? 'download' : 'upload';
			const conn = this.connection(mode, BULK_BYTES);
			if (await this.transfer(conn, BULK_TIMEOUT_MS)) {
				this.counters.bulk++;
			}
		}
	}

	private async churnLoop(worker: number): Promise<void> {
		for (let round = worker; !this.stopping; round++) {
			const kind = CHURN_ROTATION[round % CHURN_ROTATION.length]!;
			await this.churnOnce(kind, round);
		}
	}

	private async churnOnce(kind: ChurnKind, round: number): Promise<void> {
		switch (kind) {
			case 'short-download':
			case 'short-upload': {
				const conn = this.connection(kind === 'short-upload' ? 'upload' : 'download', CHURN_BYTES);
				if (await this.transfer(conn, CHURN_TIMEOUT_MS)) {
					this.counters.short++;
				}
				return;
			}
			case 'rst-connecting': {
				const conn = this.connection('download', ABORTED_BYTES);
				const opening = conn.open().catch(() => undefined);
				conn.abort();
				await opening;
				this.counters.aborted++;
				this.counters.connections++;
				return;
			}
			case 'rst-download':
			case 'rst-upload':
				return this.abortMidway(kind === 'rst-upload' ? 'upload' : 'download', round % ABORT_SPREAD_MS);
			case 'hold':
				return this.hold();
		}
	}

	/** Opens, starts, and aborts with an RST `afterMs` later (unless it failed by itself first). */
	private async abortMidway(mode: BulkMode, afterMs: number): Promise<void> {
		const conn = this.connection(mode, ABORTED_BYTES);
		try {
			await this.deadline(conn, OPEN_TIMEOUT_MS, conn.open());
			conn.start();
			await sleep(afterMs);
		} catch (error) {
			this.record(error);
			return;
		}
		if (conn.failure !== undefined) {
			this.record(conn.failure);
			return;
		}
		if (!conn.done) {
			conn.abort();
		}
		this.counters.aborted++;
		this.counters.connections++;
	}

	private async hold(): Promise<void> {
		const conn = this.connection('download', CHURN_BYTES);
		try {
			await this.deadline(conn, OPEN_TIMEOUT_MS, conn.open());
			await sleep(HOLD_MS);
		} catch (error) {
			this.record(error);
			conn.close();
			return;
		}
		if (await this.transfer(conn, CHURN_TIMEOUT_MS, false)) {
			this.counters.held++;
		}
	}

	/** Opens (unless already open), moves every byte, closes; false (and counted) on failure. */
	private async transfer(conn: BulkConnection, timeoutMs: number, open = true): Promise<boolean> {
		try {
			await this.deadline(
				conn,
				timeoutMs,
				(async () => {
					if (open) {
						await conn.open();
					}
					conn.start();
					await conn.finished;
				})(),
			);
		} catch (error) {
			this.record(error);
			return false;
		} finally {
			conn.close();
		}
		this.counters.bytes += conn.size;
		this.counters.connections++;
		return true;
	}

	private connection(mode: BulkMode, size: number): BulkConnection {
		const id = this.nextId;
		this.nextId = (this.nextId + 1) >>> 0;
		return new BulkConnection(this.port, id, mode, size, this.block);
	}

	/** `work`, but `conn` fails with 'timeout' if it is not done within `ms`. */
	private async deadline<T>(conn: BulkConnection, ms: number, work: Promise<T>): Promise<T> {
		const timer = setTimeout(() => conn.fail('timeout', `not done within ${ms} ms`), ms);
		try {
			return await work;
		} finally {
			clearTimeout(timer);
		}
	}

	private record(error: unknown): void {
		const code = error instanceof BulkError ? error.code : 'other';
		this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
		if (code === 'mismatch') {
			this.counters.mismatches++;
		}
		if (this.counters.firstErrors.length < ERRORS_KEPT) {
			this.counters.firstErrors.push(`${new Date().toISOString()} ${code}: ${(error as Error).message}`);
		}
	}
}
