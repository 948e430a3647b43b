/**
 * What a process's open descriptors are, for the soak's report when they did not come back to
 * the baseline: each one's kind from its /proc/PID/fd link (socket, pipe, anon_inode:[eventfd],
 * a file), and for each socket opened since the baseline what `ss` knows of it. A TCP socket
 * that `ss` no longer lists is closed as far as the kernel's connection tables go (its peer
 * reset it, or both sides' FINs were exchanged) but the process still holds its descriptor: a
 * socket the program lost track of.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';

/** The link target of each of the process's descriptors (`socket:[123]`, `pipe:[45]`, a path). */
export function fdTargets(pid: number): string[] | undefined {
	let fds: string[];
	try {
		fds = readdirSync(`/proc/${pid}/fd`);
	} catch {
		return undefined;
	}
	const targets: string[] = [];
	for (const fd of fds) {
		try {
			targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
		} catch {
			// closed while we looked
		}
	}
	return targets;
}

/** `socket:[123]` -> `123`; undefined for anything else. */
function socketInode(target: string): string | undefined {
	return /^socket:\[(\d+)\]$/.exec(target)?.[1];
}

/** A descriptor's kind: socket, pipe, anon_inode:[eventfd] (and the like), or file. */
function kindOf(target: string): string {
	if (target.startsWith('socket:')) {
		return 'socket';
	}
	if (target.startsWith('pipe:')) {
		return 'pipe';
	}
	if (target.startsWith('anon_inode:')) {
		return target;
	}
	return 'file';
}

function countKinds(targets: readonly string[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const target of targets) {
		const kind = kindOf(target);
		counts.set(kind, (counts.get(kind) ?? 0) + 1);
	}
	return counts;
}

/**
 * Every socket `ss` lists (TCP, UDP, unix), by inode, as one line of its columns: state, queues,
 * addresses.
 */
export function socketsByInode(): Map<string, string> {
	const table = new Map<string, string>();
	for (const [family, flag] of [
		['tcp', '-t'],
		['udp', '-u'],
	] as const) {
		const out = spawnSync('ss', [flag, '-aneH'], { encoding: 'utf8' }).stdout ?? '';
		for (const line of out.split('\n')) {
			const inode = /\bino:(\d+)\b/.exec(line)?.[1];
			if (inode !== undefined) {
				const columns = line.trim().split(/\s+/).slice(0, 5).join(' ');
				table.set(inode, `${family} ${columns}`);
			}
		}
	}
	// Unix sockets: `Netid State Recv-Q Send-Q Local Inode Peer Inode`, no ino: field.
	const unix = spawnSync('ss', ['-xaH'], { encoding: 'utf8' }).stdout ?? '';
	for (const line of unix.split('\n')) {
		const columns = line.trim().split(/\s+/);
		if (columns.length >= 6) {
			table.set(columns[5]!, `unix ${columns.slice(1, 8).join(' ')}`);
		}
	}
	return table;
}

/**
 * What `after` holds beyond `before` (two fdTargets() lists of one process), in lines: the count
 * by kind, then each new socket as `ss` shows it, or as closed-but-held when `ss` does not.
 */
export function describeExtraFds(
	before: readonly string[],
	after: readonly string[],
	sockets: ReadonlyMap<string, string>,
): string[] {
	const was = countKinds(before);
	const now = countKinds(after);
	const kinds = [...new Set([...was.keys(), ...now.keys()])]
		.map((kind) => ({ kind, delta: (now.get(kind) ?? 0) - (was.get(kind) ?? 0) }))
		.filter((k) => k.delta !== 0)
		.map((k) => `${k.kind} ${k.delta > 0 ? '+' : ''}${k.delta}`);
	const lines = [
		`${after.length - before.length} more descriptors than at the baseline: ${kinds.join(', ') || 'none by kind'}`,
	];
	const old = new Set(before.map(socketInode));
	const fresh = after
		.map(socketInode)
		.filter((inode): inode is string => inode !== undefined && !old.has(inode));
	const unlisted = fresh.filter((inode) => !sockets.has(inode));
	if (unlisted.length > 0) {
		lines.push(
			`${unlisted.length} new socket(s) not in ss: closed but still held (reset or closed by the peer, never closed here)`,
		);
	}
	for (const inode of fresh.filter((i) => sockets.has(i))) {
		lines.push(`new socket ${sockets.get(inode)!}`);
	}
	return lines;
}
