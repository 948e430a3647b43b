import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListeningPort } from '../../protocol/rpc';

/** A listening socket row of /proc/net/tcp or tcp6. */
export interface ProcSocket {
	readonly host: string;
	readonly port: number;
	readonly inode: string;
}

/** TCP state "LISTEN" in /proc/net/tcp. */
const TCP_LISTEN = '0A';
/** Longest command line reported (VS Code's bound too). */
const MAX_COMMAND_CHARS = 500;

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 (VS Code's method, read from its tunnel service):
 *
 *     sl  local_address                         rem_address  st  …  uid  timeout  inode
 *     0:  0100007F:1F90                         00000000:0000 0A  …  1000 0        123456
 *     1:  00000000000000000000000001000000:0BB8 …             0A  …
 *
 * Only LISTEN rows are kept. IPv4 addresses are 8 hex digits, little-endian; IPv6 addresses are
 * four little-endian 32-bit words. The port is big-endian hex.
 */
export function parseProcNetTcp(text: string): ProcSocket[] {
	const out: ProcSocket[] = [];
	for (const line of text.split('\n').slice(1)) {
		const fields = line.trim().split(/\s+/);
		if (fields.length < 10 || fields[3] !== TCP_LISTEN) {
			continue;
		}
		const [addressHex, portHex] = fields[1]!.split(':');
		const host = decodeProcAddress(addressHex ?? '');
		const port = parseInt(portHex ?? '', 16);
		if (host !== undefined && port > 0) {
			out.push({ host, port, inode: fields[9]! });
		}
	}
	return out;
}

/** `0100007F` → `127.0.0.1`; 32 hex digits → the compressed IPv6 form (`::1`). */
export function decodeProcAddress(hex: string): string | undefined {
	if (/^[0-9A-Fa-f]{8}$/.test(hex)) {
		return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
	}
	if (/^[0-9A-Fa-f]{32}$/.test(hex)) {
		const groups: string[] = [];
		for (let word = 0; word < 4; word++) {
			const w = hex.slice(word * 8, word * 8 + 8);
			const bytes = [6, 4, 2, 0].map((i) => w.slice(i, i + 2)).join('');
			groups.push(bytes.slice(0, 4), bytes.slice(4, 8));
		}
		// The URL parser prints IPv6 addresses in their canonical compressed form.
		return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
	}
	return undefined;
}

export interface ScanOptions {
	readonly procRoot?: string;
	/** Processes whose ports are not reported (the agent itself: its forwards are not apps). */
	readonly excludePids?: ReadonlySet<number>;
}

/**
 * Lists the TCP ports listening on this host, with the owning process where /proc lets us read
 * it. The socket-inode → pid map is rebuilt only when an unknown inode shows up.
 */
export class ListeningPortScanner {
	private readonly owners = new Map<string, number>();
	/** Listening sockets searched for and not found in any readable process. */
	private readonly unowned = new Set<string>();
	private readonly procRoot: string;

	constructor(private readonly options: ScanOptions = {}) {
		this.procRoot = options.procRoot ?? '/proc';
	}

	async scan(): Promise<ListeningPort[]> {
		const rows = [
			...parseProcNetTcp(await readFile(join(this.procRoot, 'net/tcp'), 'utf8').catch(() => '')),
			...parseProcNetTcp(await readFile(join(this.procRoot, 'net/tcp6'), 'utf8').catch(() => '')),
		];
		const unknown = new Set(
			rows
				.filter((row) => !this.owners.has(row.inode) && !this.unowned.has(row.inode))
				.map((row) => row.inode),
		);
		if (unknown.size > 0) {
			this.forgetClosed(rows);
			await this.mapOwners(unknown);
		}
		const seen = new Set<string>();
		const ports: ListeningPort[] = [];
		for (const row of rows) {
			const key = `${row.host}|${row.port}`;
			const pid = this.owners.get(row.inode);
			if (seen.has(key) || (pid !== undefined && this.options.excludePids?.has(pid))) {
				continue;
			}
			seen.add(key);
			const command = pid === undefined ? undefined : await this.commandOf(pid);
			ports.push({
				host: row.host,
				port: row.port,
				...(pid !== undefined ? { pid } : {}),
				...(command ? { command } : {}),
			});
		}
		return ports.sort((a, b) => a.port - b.port || a.host.localeCompare(b.host));
	}

	/** Drops owners of sockets that no longer listen (the map holds listening sockets only). */
	private forgetClosed(rows: readonly ProcSocket[]): void {
		const listening = new Set(rows.map((row) => row.inode));
		for (const inode of [...this.owners.keys()]) {
			if (!listening.has(inode)) {
				this.owners.delete(inode);
			}
		}
		for (const inode of [...this.unowned]) {
			if (!listening.has(inode)) {
				this.unowned.delete(inode);
			}
		}
	}

	/**
	 * Finds the processes that hold the `wanted` socket inodes, reading each process's descriptors
	 * at once (not one by one) and stopping as soon as all are found: on a host where other
	 * processes hold thousands of connections, a full sequential walk took longer than the scan
	 * interval, and new ports went unreported for tens of seconds.
	 */
	private async mapOwners(wanted: Set<string>): Promise<void> {
		const entries = await readdir(this.procRoot).catch(() => [] as string[]);
		// Newest processes first: a port that just appeared most likely belongs to one of them.
		const pids = entries.filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a));
		for (const pid of pids) {
			const fdDir = join(this.procRoot, pid, 'fd');
			const fds = await readdir(fdDir).catch(() => [] as string[]);
			const targets = await Promise.all(fds.map((fd) => readlink(join(fdDir, fd)).catch(() => '')));
			for (const target of targets) {
				const match = /^socket:\[(\d+)\]$/.exec(target);
				if (match && wanted.has(match[1]!)) {
					this.owners.set(match[1]!, Number(pid));
					wanted.delete(match[1]!);
				}
			}
			if (wanted.size === 0) {
				return;
			}
		}
		// Held by no process we can read (another user's, another pid namespace): not searched again.
		for (const inode of wanted) {
			this.unowned.add(inode);
		}
	}

	private async commandOf(pid: number): Promise<string | undefined> {
		const raw = await readFile(join(this.procRoot, String(pid), 'cmdline'), 'utf8').catch(() => '');
		const command = raw.replace(/\0+$/, '').replace(/\0/g, ' ').trim();
		return command ? command.slice(0, MAX_COMMAND_CHARS) : undefined;
	}
}

/** Ports in `after` not in `before`, and the other way round (by host and port). */
export function diffPorts(
	before: readonly ListeningPort[],
	after: readonly ListeningPort[],
): { added: ListeningPort[]; removed: ListeningPort[] } {
	const key = (p: ListeningPort) => `${p.host}|${p.port}`;
	const beforeKeys = new Set(before.map(key));
	const afterKeys = new Set(after.map(key));
	return {
		added: after.filter((p) => !beforeKeys.has(key(p))),
		removed: before.filter((p) => !afterKeys.has(key(p))),
	};
}
