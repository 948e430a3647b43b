import { readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BerthError } from '../../protocol/errors';

/**
 * The token database's lock, and what is left of it after a crash.
 *
 * node-sqlite3-wasm locks a database by creating the folder `<db>.lock` and removes it on close.
 * The store holds that lock for as long as it is open (SQLite's exclusive locking mode, which WAL
 * needs without shared memory), so one process at a time uses the database. A process killed with
 * `kill -9` cannot remove it, and SQLite would then answer "database is locked" forever. So the
 * holder writes its identity beside the lock (`<db>.lock-owner`: its pid and the instant it
 * started), and the next opener removes a lock whose holder is gone:
 *
 *     <db>.lock   owner file                          verdict
 *     absent      (any)                               free
 *     present     a live process, not this one's      held: refused, naming the pid
 *                 earlier self (same pid, other start)
 *     present     a process that has ended            stale: removed, with a warning
 *     present     none or unreadable, lock < 10 s     held: someone is opening it right now
 *     present     none or unreadable, lock ≥ 10 s     stale (killed between locking and writing the owner)
 *
 * A pid is compared with its start instant too, because an agent restarted in a container after a
 * crash often gets the pid it had before.
 */

/** How old a lock without an owner must be to be taken as left by a crash (ms). Opening takes milliseconds. */
export const OWNERLESS_LOCK_STALE_MS = 10_000;

/** Who holds a lock: a process, told apart from an earlier one with the same pid by its start. */
export interface LockOwner {
	readonly pid: number;
	/** performance.timeOrigin of the process: when it started, in ms since the epoch. */
	readonly started: number;
}

export type LockVerdict =
	| { readonly type: 'free' }
	| { readonly type: 'held'; readonly owner?: LockOwner }
	| { readonly type: 'stale'; readonly owner?: LockOwner };

/** The facts a verdict depends on, injected so that tests can state them. */
export interface LockFacts {
	readonly self: LockOwner;
	readonly now: number;
	readonly isAlive: (pid: number) => boolean;
}

export function lockPath(dbPath: string): string {
	return `${dbPath}.lock`;
}

export function ownerPath(dbPath: string): string {
	return `${dbPath}.lock-owner`;
}

/** This process, as an owner file names it. */
export function currentOwner(): LockOwner {
	return { pid: process.pid, started: performance.timeOrigin };
}

/** Whether a process with this pid runs (EPERM: it does, as another user). */
export function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** What the lock of the database at `dbPath` is: free, held by a live process, or left by a dead one. */
export function inspectLock(dbPath: string, facts: LockFacts): LockVerdict {
	const lockAge = ageOf(lockPath(dbPath), facts.now);
	if (lockAge === undefined) {
		return { type: 'free' };
	}
	const owner = readOwner(dbPath);
	if (owner === undefined) {
		return lockAge >= OWNERLESS_LOCK_STALE_MS ? { type: 'stale' } : { type: 'held' };
	}
	const earlierSelf = owner.pid === facts.self.pid && owner.started !== facts.self.started;
	return !earlierSelf && facts.isAlive(owner.pid) ? { type: 'held', owner } : { type: 'stale', owner };
}

/**
 * Removes a lock left by a process that ended without closing the database; refuses when a live
 * process holds it.
 * @param warn Told when a stale lock is removed.
 * @throws BerthError BERTH_ERR_STORE naming the holder and what to do.
 */
export function clearStaleLock(dbPath: string, facts: LockFacts, warn: (message: string) => void): void {
	const verdict = inspectLock(dbPath, facts);
	if (verdict.type === 'held') {
		throw new BerthError('BERTH_ERR_STORE', heldMessage(dbPath, verdict.owner));
	}
	if (verdict.type === 'stale') {
		rmdirSync(lockPath(dbPath));
		const who = verdict.owner ? `process ${verdict.owner.pid}` : 'a process';
		warn(
			`the token database ${dbPath} was left locked by ${who}, which ended without closing it ` +
				'(killed?): the lock is removed, and SQLite recovers the last transactions from the WAL',
		);
	}
}

/** The message for a database another process has open. */
export function heldMessage(dbPath: string, owner?: LockOwner): string {
	const who = owner ? `process ${owner.pid}` : 'another process';
	return (
		`the token database ${dbPath} is in use by ${who} (a running agent?): one process at a time ` +
		`uses it. Manage tokens through that agent (-u URL), or stop it; if no Berth process runs, ` +
		`delete the folder ${lockPath(dbPath)}`
	);
}

/** Records this process as the lock's holder (after SQLite took the lock). */
export function writeOwner(dbPath: string, owner: LockOwner): void {
	writeFileSync(ownerPath(dbPath), JSON.stringify(owner) + '\n', { mode: 0o600 });
}

/** Forgets the holder (after SQLite released the lock). */
export function removeOwner(dbPath: string): void {
	rmSync(ownerPath(dbPath), { force: true });
}

/** The owner file's contents, or undefined when it is missing or not what writeOwner writes. */
function readOwner(dbPath: string): LockOwner | undefined {
	let parsed: unknown;
	try {
		parsed = JSON.parse(readFileSync(ownerPath(dbPath), 'utf8'));
	} catch {
		return undefined;
	}
	const { pid, started } = (parsed ?? {}) as Partial<Record<keyof LockOwner, unknown>>;
	const valid = Number.isSafeInteger(pid) && (pid as number) > 0 && typeof started === 'number';
	return valid ? { pid: pid as number, started: started as number } : undefined;
}

/** How long ago `path` was created (its mtime: nothing writes into the lock folder), or undefined. */
function ageOf(path: string, now: number): number | undefined {
	try {
		return now - statSync(path).mtimeMs;
	} catch {
		return undefined;
	}
}
