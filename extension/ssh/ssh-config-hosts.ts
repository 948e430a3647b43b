/**
 * The hosts an ssh config names, for Connect to Host via SSH...'s list: every `Host` pattern that
 * is a plain name (no `*`, `?` or `!`), in the file's order, following `Include` as ssh does
 * (relative paths from ~/.ssh, `~` for the home folder, `*` and `?` in the file name). Pure: the
 * files are read through a `SshConfigReader`, so the rules are unit-tested without a disk.
 */

import { posix } from 'node:path';

/** How the files are read: undefined when a file or folder cannot be read (it is skipped, as ssh does). */
export interface SshConfigReader {
	readFile(path: string): string | undefined;
	/** The names in a folder. */
	listDir(path: string): readonly string[] | undefined;
}

/** What one file says: its plain Host names and its Include arguments, in order. */
export interface SshConfigEntries {
	readonly hosts: readonly string[];
	readonly includes: readonly string[];
}

/** ssh's own bound on nested Includes (READCONF_MAX_DEPTH). */
const MAX_INCLUDE_DEPTH = 16;
/** Most files read for one listing (a glob that matches thousands is not a config). */
const MAX_FILES = 256;
/** Most hosts listed. */
const MAX_HOSTS = 1000;
/** A name the list offers: what `parseSshTarget` takes, and no pattern. */
const PLAIN_HOST = /^[^\s*?!'"`$\\;&|<>()-][^\s*?!'"`$\\;&|<>()]*$/u;

/** The Host names and Include arguments of one file's text. */
export function parseSshConfigEntries(text: string): SshConfigEntries {
	const hosts: string[] = [];
	const includes: string[] = [];
	for (const raw of text.split(/\r?\n/)) {
		const match = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*)$/.exec(raw);
		if (!match || raw.trimStart().startsWith('#')) {
			continue;
		}
		const keyword = match[1]!.toLowerCase();
		const args = splitArguments(match[2]!);
		if (keyword === 'host') {
			hosts.push(...args.filter((a) => PLAIN_HOST.test(a)));
		} else if (keyword === 'include') {
			includes.push(...args);
		}
	}
	return { hosts, includes };
}

/**
 * The plain Host names of `file` and what it includes, each once, in ssh's reading order.
 * `home` is the user's home folder (for `~` and the ~/.ssh of relative includes).
 */
export function listSshConfigHosts(file: string, reader: SshConfigReader, home: string): string[] {
	const hosts = new Set<string>();
	let files = 0;
	const visit = (path: string, depth: number): void => {
		if (depth > MAX_INCLUDE_DEPTH || files >= MAX_FILES || hosts.size >= MAX_HOSTS) {
			return;
		}
		files++;
		const text = reader.readFile(path);
		if (text === undefined) {
			return;
		}
		const entries = parseSshConfigEntries(text);
		// Includes are read where they stand; a listing only needs the names, so after is as good.
		entries.hosts.forEach((h) => hosts.size < MAX_HOSTS && hosts.add(h));
		for (const include of entries.includes) {
			for (const match of expandInclude(include, reader, home)) {
				visit(match, depth + 1);
			}
		}
	};
	visit(file, 0);
	return [...hosts];
}

/** `~` and `~/…` as the home folder; anything else as it is. */
export function expandHome(path: string, home: string): string {
	if (path === '~') {
		return home;
	}
	return path.startsWith('~/') ? posix.join(home, path.slice(2)) : path;
}

/** The files an Include argument names: relative to ~/.ssh, with `*` and `?` in the last part only. */
function expandInclude(arg: string, reader: SshConfigReader, home: string): string[] {
	const expanded = expandHome(arg, home);
	const path = posix.isAbsolute(expanded) ? expanded : posix.join(home, '.ssh', expanded);
	const dir = posix.dirname(path);
	const name = posix.basename(path);
	if (/[*?[]/.test(dir)) {
		return []; // a pattern in a folder's name: rare enough to leave out of a list
	}
	if (!/[*?]/.test(name)) {
		return [path];
	}
	const pattern = new RegExp(
		'^' +
			name
				.split('')
				.map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
				.join('') +
			'$',
	);
	return (reader.listDir(dir) ?? [])
		.filter((entry) => pattern.test(entry) && !entry.startsWith('.'))
		.sort()
		.map((entry) => posix.join(dir, entry));
}

/** ssh's argument splitting: whitespace separates, double quotes group, a `#` word starts a comment. */
function splitArguments(text: string): string[] {
	const args: string[] = [];
	const word = /"([^"]*)"|(\S+)/g;
	for (let m = word.exec(text); m; m = word.exec(text)) {
		if (m[2]?.startsWith('#')) {
			break;
		}
		args.push(m[1] ?? m[2]!);
	}
	return args;
}
