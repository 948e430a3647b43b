import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from './wait';

/**
 * What the kernel says about the processes and sockets under test (/proc): memory, descriptors,
 * and the bytes that wait in TCP queues. Load tests read these to assert their bounds.
 */

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(
		readFileSync(`/proc/${pid}/status`, 'utf8'),
	)?.[1];
	assert.ok(kib, `${field} in /proc/${pid}/status`);
	return Number(kib);
}

/** A process's resident memory now, in MiB. */
export function vmRssMiB(pid: number): number {
	return statusKiB(pid, 'VmRSS') / 1024;
}

/** A process's peak resident memory so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
	return statusKiB(pid, 'VmHWM') / 1024;
}

/** Descriptors a process holds open. */
export function openFiles(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).length;
}

/** This process's soft limit on open files. */
export function openFilesLimit(): number {
	const match = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
	return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

/**
 * The kernel's view of the established TCP connections to a listener on `port` (IPv4): how many,
 * the bytes waiting in their receive queues (not read by the listening process yet), and the
 * bytes the peers have not sent yet. Both zero: the process has read everything the peers wrote.
 */
export function listenerSockets(port: number): { count: number; unread: number; unsent: number } {
	const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
	let count = 0;
	let unread = 0;
	let unsent = 0;
	for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
		const [, local, remote, state, queues] = line.trim().split(/\s+/);
		if (state !== '01' || !queues) {
			continue; // not ESTABLISHED
		}
		const [tx, rx] = queues.split(':').map((h) => parseInt(h, 16));
		if (local?.endsWith(hex)) {
			count++;
			unread += rx ?? 0;
		}
		if (remote?.endsWith(hex)) {
			unsent += tx ?? 0;
		}
	}
	return { count, unread, unsent };
}

/** Waits until the process listening on `port` has read every byte its peers sent. */
export async function listenerHasReadEverything(port: number, timeoutMs = 10_000): Promise<void> {
	await waitFor(
		() => {
			const { unread, unsent } = listenerSockets(port);
			return unread === 0 && unsent === 0;
		},
		'the listener to read every byte sent',
		timeoutMs,
	);
}
