import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../../protocol/errors';
import type { Timers } from '../../../protocol/timers';
import type { AgentFiles } from './agent-state';

/**
 * A lock older than this was left by a client that died: it is taken over. A holder needs at
 * most about 35 s (a probe of 3 s, a stop of 10 s, a start of 20 s).
 */
const STALE_LOCK_MS = 45_000;
/** How long a client waits for another to finish with the agent: past STALE_LOCK_MS, so a dead holder's lock is taken over first. */
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 100;

/**
 * Runs `work` while holding the build's lock on the host (`lock-<commit>/`, made with mkdir, which
 * is atomic): two clients connecting at once start one agent, not two.
 * @throws BerthError BERTH_ERR_TIMEOUT when another client holds it for LOCK_WAIT_MS.
 */
export async function withHostLock<T>(files: AgentFiles, timers: Timers, work: () => Promise<T>): Promise<T> {
	const lock = join(files.dir, `lock-${files.commit}`);
	const deadline = timers.now() + LOCK_WAIT_MS;
	while (!tryLock(lock)) {
		if (timers.now() > deadline) {
			throw new BerthError(
				'BERTH_ERR_TIMEOUT',
				`another berth ssh has held ${lock} for over ${LOCK_WAIT_MS / 1000} s: remove it if no berth ssh is running`,
			);
		}
		await new Promise<void>((resolve) => timers.timeout(resolve, LOCK_POLL_MS));
	}
	try {
		return await work();
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
}

/** Takes the lock, or takes over a stale one; false while another holds it. */
function tryLock(lock: string): boolean {
	try {
		mkdirSync(lock, { mode: 0o700 });
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
			throw error;
		}
	}
	try {
		if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) {
			rmSync(lock, { recursive: true, force: true });
		}
	} catch {
		// Gone meanwhile: the next try takes it.
	}
	return false;
}
