import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { hostname } from 'node:os';

/** Hex digits kept of the SHA-256 digest: 128 bits, plenty to tell loopbacks apart. */
const NETWORK_IDENTITY_HEX_CHARS = 32;
/** Where Linux says which boot this is: a random UUID drawn at every boot. */
const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
/** This process's network namespace: a link `net:[4026531840]` whose number is the namespace's inode. */
const NET_NAMESPACE_PATH = '/proc/self/ns/net';
/** Mixed into the weaker identity so that it never equals a Linux one. */
const HOSTNAME_ONLY = 'hostname-only';

/** What the identity is made of, read from the system (or given by a test). */
export interface NetworkFacts {
	/** The kernel's boot id; undefined where there is none (not Linux, /proc not mounted). */
	readonly bootId: string | undefined;
	/** The network namespace's inode, as a decimal string; undefined where unknown. */
	readonly netNamespace: string | undefined;
	readonly hostname: string;
}

/**
 * Which loopback this process is on, as a short hex digest: two processes that compute the same
 * value share 127.0.0.1 and ::1, so one's listeners are among the other's listening ports, and a
 * connection one makes to a loopback port can reach the other's listener. On Linux it is the
 * kernel's boot id and the network namespace's inode (one kernel, one namespace: one loopback;
 * two containers on a host share the boot id but not the namespace, unless one runs with host
 * networking, which is exactly when they share a loopback). Elsewhere it is the host name alone:
 * weaker, since two hosts may share a name and it cannot tell namespaces apart, but a wrong
 * answer costs only a refused forward or a port left unlisted, never a loop let through: two
 * processes on one host always agree.
 */
export function networkIdentityOf(facts: NetworkFacts): string {
	const parts =
		facts.bootId !== undefined && facts.netNamespace !== undefined
			? ['linux', facts.bootId.trim(), facts.netNamespace]
			: [HOSTNAME_ONLY, facts.hostname.toLowerCase()];
	return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, NETWORK_IDENTITY_HEX_CHARS);
}

/** This process's network identity (reads /proc on Linux; see `networkIdentityOf`). */
export function computeNetworkIdentity(): string {
	return networkIdentityOf(readNetworkFacts());
}

/** Reads the boot id and network namespace, leaving out what this system does not have. */
export function readNetworkFacts(): NetworkFacts {
	return { bootId: readBootId(), netNamespace: readNetNamespace(), hostname: hostname() };
}

function readBootId(): string | undefined {
	try {
		const id = readFileSync(BOOT_ID_PATH, 'utf8').trim();
		return id.length > 0 ? id : undefined;
	} catch {
		return undefined;
	}
}

/** The namespace's inode: from the link's text (`net:[N]`), else from a stat through the link. */
export function readNetNamespace(path = NET_NAMESPACE_PATH): string | undefined {
	try {
		const match = /^net:\[(\d+)\]$/.exec(readlinkSync(path));
		if (match) {
			return match[1];
		}
	} catch {
		// not Linux, or /proc is not mounted: try a stat, then give up
	}
	try {
		return String(statSync(path).ino);
	} catch {
		return undefined;
	}
}
