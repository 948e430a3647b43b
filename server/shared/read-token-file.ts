import {
	closeSync,
	constants,
	fchmodSync,
	fstatSync,
	lstatSync,
	openSync,
	readSync,
	realpathSync,
} from 'node:fs';
import { BerthError } from '../../protocol/errors';
import { MAX_TOKEN_BYTES } from './token-rules';

/** Permission bits that let anyone but the owner in (group and others). */
const OPEN_TO_OTHERS = 0o077;
const OWNER_ONLY = 0o600;

export interface TokenFileOptions {
	/** Names the file in messages, e.g. `--token-file /home/me/token`. */
	readonly what: string;
	/**
	 * Berth's own stored token: a symbolic link is refused, never followed (following it would read,
	 * and tighten the mode of, a file elsewhere), and a mode open to others is tightened to 0600.
	 * Otherwise (a file the user named) a link is followed and both are only warned about.
	 */
	readonly owned?: boolean;
	/** Bytes read at most (default MAX_TOKEN_BYTES); a longer file is refused. */
	readonly maxBytes?: number;
	/** What the file holds, in messages: `token` by default, `signing secret` for the JWT secret. */
	readonly noun?: string;
	/** The flag that names a file of the user's own, in messages (default `--connection-token-file`). */
	readonly flag?: string;
}

export interface TokenFileContents {
	/** The file's text, as read (the caller strips the newline and checks the rules). */
	readonly text: string;
	/** What the user should know: a link, a mode that let others read the token. One line each. */
	readonly warnings: readonly string[];
}

/**
 * Reads a token file with a bound: at most `maxBytes` are ever held, so `/dev/zero` or a wrong
 * path fails at once with a message. Regular files are checked for links and loose modes.
 * @throws BerthError BERTH_ERR_TOKEN when it cannot be read, is too long, or (owned) is a link or
 * not a regular file. Messages name the file and say what to do.
 */
export function readTokenFile(path: string, options: TokenFileOptions): TokenFileContents {
	const { what } = options;
	const isLink = attempt(what, () => lstatSync(path)).isSymbolicLink();
	if (isLink && options.owned) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} is a symbolic link: Berth does not follow it, nor change the mode of what it points to. ` +
				`Delete the link to have a new ${options.noun ?? 'token'} generated, or give that file with ` +
				(options.flag ?? '--connection-token-file'),
		);
	}
	// O_NOFOLLOW: a link put in the file's place after the check above is not followed either.
	const flags = constants.O_RDONLY | (options.owned ? constants.O_NOFOLLOW : 0);
	const fd = attempt(what, () => openSync(path, flags));
	try {
		const warnings = checkOpenedFile(fd, path, isLink, options);
		const noun = options.noun ?? 'connection token';
		return { text: readBounded(fd, what, options.maxBytes ?? MAX_TOKEN_BYTES, noun), warnings };
	} finally {
		closeSync(fd);
	}
}

/**
 * What to tell the user about an opened file (a link, a mode open to others), tightening an owned
 * file's mode through its descriptor, never through a path a link could redirect. Pipes and
 * devices (`<(cmd)`, `/dev/stdin`) have no mode worth a word.
 */
function checkOpenedFile(fd: number, path: string, isLink: boolean, options: TokenFileOptions): string[] {
	const { what } = options;
	const noun = options.noun ?? 'token';
	const stats = fstatSync(fd);
	if (options.owned && !stats.isFile()) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} is not a regular file: delete it to have a new ${noun} generated`,
		);
	}
	if (!stats.isFile()) {
		return [];
	}
	const warnings: string[] = [];
	if (isLink) {
		const target = attempt(what, () => realpathSync(path));
		warnings.push(
			`${what} is a symbolic link to ${target}: whoever can change the link chooses the token; give the file itself`,
		);
	}
	const mode = stats.mode & 0o777;
	if ((mode & OPEN_TO_OTHERS) !== 0) {
		warnings.push(looseModeWarning(what, mode, options.owned === true, noun));
		if (options.owned) {
			fchmodSync(fd, OWNER_ONLY);
		}
	}
	return warnings;
}

function looseModeWarning(what: string, mode: number, tightened: boolean, noun: string): string {
	const octal = mode.toString(8).padStart(4, '0');
	return (
		`${what} was open to other users (mode ${octal}): the ${noun} may have leaked. ` +
		(tightened
			? `It is now 0600; if others could read it, delete it to have a new ${noun} generated`
			: `Make it 0600 (chmod 600), and change the ${noun} if others could read it`)
	);
}

/** Reads to the end, refusing past `maxBytes`: reads one byte more than allowed to tell. */
function readBounded(fd: number, what: string, maxBytes: number, noun: string): string {
	const buffer = Buffer.alloc(maxBytes + 1);
	let length = 0;
	while (length < buffer.length) {
		const count = attempt(what, () => readSync(fd, buffer, length, buffer.length - length, null));
		if (count === 0) {
			return buffer.toString('utf8', 0, length);
		}
		length += count;
	}
	throw new BerthError(
		'BERTH_ERR_TOKEN',
		`${what} holds more than ${maxBytes / 1024} KiB, which no ${noun} does: check the path`,
	);
}

/** Runs a file system call, turning its error into a BerthError that names the file and errno. */
function attempt<T>(what: string, call: () => T): T {
	try {
		return call();
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? String(error);
		throw new BerthError('BERTH_ERR_TOKEN', `cannot read ${what}: ${code}`, undefined, { cause: error });
	}
}
