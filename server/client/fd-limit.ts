import { readdirSync, readFileSync } from 'node:fs';

/**
 * This process's soft limit on open files (Linux: /proc/self/limits), or undefined where it
 * cannot be read. Past it, libuv accepts and closes new connections itself, without telling
 * anyone: the forwarder warns before that happens.
 */
export function readOpenFilesLimit(procLimits = '/proc/self/limits'): number | undefined {
	try {
		const line = readFileSync(procLimits, 'utf8')
			.split('\n')
			.find((l) => l.startsWith('Max open files'));
		const soft = line?.split(/\s{2,}/)[1];
		return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
	} catch {
		return undefined;
	}
}

/** File descriptors this process holds now (Linux), or 0 where it cannot be read. */
export function countOpenFiles(procFd = '/proc/self/fd'): number {
	try {
		return readdirSync(procFd).length;
	} catch {
		return 0;
	}
}
