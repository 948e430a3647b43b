import { formatSshHostLine, MIN_NODE_MAJOR, SSH_HOST_LINE_PREFIX } from '../../../protocol/ssh-bootstrap';

/**
 * What `berth ssh` sends on the ssh session's standard input, run there by `/bin/sh`: a POSIX
 * script that finds node and hands over to it, and the small bootstrap node runs. Nothing in them
 * is secret (the token comes later, on stdin); the bootstrap is on node's command line.
 *
 * The script is one `{ … }` group, so the shell has read all of it before it runs any of it: the
 * bytes that follow on the same pipe (the upload, the request) are node's to read, not the
 * shell's. Once node is done, the script prints `exit` and keeps the session open (`cat`) until
 * the client closes its end: the ssh connection that carries the agent's port lives as long as
 * the client wants it.
 */

/** What the script needs to know. None of it is secret. */
export interface RemoteScriptOptions {
	/** The folder that holds the agent, its token and state; '' for ~/.berth (node resolves ~). */
	readonly remoteDir: string;
	/** `--node PATH`: the node to run; '' to look for `node` on PATH. */
	readonly nodePath: string;
	/** The build's commit: the agent is `server-<commit>.js`. */
	readonly commit: string;
}

/** `text` as one word for sh, in single quotes. */
export function shellQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The script for /bin/sh. */
export function buildRemoteScript(options: RemoteScriptOptions): string {
	const line = (message: Parameters<typeof formatSshHostLine>[0]) => shellQuote(formatSshHostLine(message));
	const done = `printf '%s\\n' ${line({ type: 'exit', status: 0 })}; exec cat >/dev/null`;
	return [
		'{',
		'umask 077',
		`berth_node=${shellQuote(options.nodePath)}`,
		'if [ -z "$berth_node" ]; then',
		'  berth_node=$(command -v node 2>/dev/null) || berth_node=',
		`  if [ -z "$berth_node" ]; then printf '%s\\n' ${line({ type: 'no-node', reason: 'missing' })}; ${done}; fi`,
		'elif [ ! -f "$berth_node" ] || [ ! -x "$berth_node" ]; then',
		`  printf '%s\\n' ${line({ type: 'no-node', reason: 'not-executable' })}; ${done}`,
		'fi',
		`"$berth_node" -e ${shellQuote(BOOTSTRAP_JS)} ${shellQuote(options.remoteDir)} ${shellQuote(options.commit)}`,
		`printf '${SSH_HOST_LINE_PREFIX}{"type":"exit","status":%d}\\n' "$?"`,
		'exec cat >/dev/null',
		'}',
		'',
	].join('\n');
}

/**
 * The bootstrap, `node -e BOOTSTRAP_JS DIR COMMIT`. ES5 until the version check, so that an old
 * node can say how old it is. It reports the installed agent's SHA-256, reads one request line
 * (`upload {size, sha256}` and that many bytes, or `run`), writes an upload to a new file and
 * renames it into place once its digest is right, then runs the agent's bundle as
 * `berth ssh-host DIR` in the same process, which reads the next request from the same stdin.
 * stdin is read with readSync, byte by byte up to a newline and exactly `size` bytes of an upload,
 * so that nothing meant for `ssh-host` is read here.
 */
const BOOTSTRAP_JS = `
var fs = require('fs'), path = require('path'), os = require('os'), crypto = require('crypto');
function say(m) { process.stdout.write(${JSON.stringify(SSH_HOST_LINE_PREFIX)} + JSON.stringify(m) + '\\n'); }
var version = process.versions.node;
if (Number(version.split('.')[0]) < ${MIN_NODE_MAJOR}) {
	say({ type: 'no-node', reason: 'too-old', version: version });
	process.exit(0);
}
var home = os.homedir(), given = process.argv[1], commit = process.argv[2];
var dir = given === '' ? path.join(home, '.berth')
	: given === '~' ? home
	: given.indexOf('~/') === 0 ? path.join(home, given.slice(2))
	: path.resolve(home, given);
var file = path.join(dir, 'server-' + commit + '.js');
function digest(f) {
	try { return crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'); } catch (e) { return null; }
}
var pause = new Int32Array(new SharedArrayBuffer(4));
function readInto(buf, at, n) {
	for (;;) {
		try { return fs.readSync(0, buf, at, n, null); }
		catch (e) { if (e.code !== 'EAGAIN') { throw e; } Atomics.wait(pause, 0, 0, 10); }
	}
}
function readExactly(n) {
	var buf = Buffer.alloc(n), got = 0;
	while (got < n) {
		var r = readInto(buf, got, n - got);
		if (r === 0) { throw new Error('the client closed the connection'); }
		got += r;
	}
	return buf;
}
function readLine() {
	var bytes = [];
	for (;;) {
		var b = readExactly(1)[0];
		if (b === 10) { return Buffer.from(bytes).toString('utf8'); }
		if (bytes.length > 4096) { throw new Error('a request line is too long'); }
		bytes.push(b);
	}
}
say({ type: 'hello', node: version, sha256: digest(file) });
var request = JSON.parse(readLine());
if (request.type === 'upload') {
	fs.mkdirSync(dir, { recursive: true, mode: 448 });
	var tmp = file + '.' + process.pid + '.tmp', fd = fs.openSync(tmp, 'w', 384);
	var hash = crypto.createHash('sha256'), left = request.size;
	try {
		while (left > 0) {
			var chunk = readExactly(Math.min(left, 65536));
			fs.writeSync(fd, chunk);
			hash.update(chunk);
			left -= chunk.length;
		}
	} catch (e) {
		fs.closeSync(fd);
		fs.unlinkSync(tmp);
		throw e;
	}
	fs.closeSync(fd);
	if (hash.digest('hex') !== request.sha256) {
		fs.unlinkSync(tmp);
		say({ type: 'error', message: 'the agent arrived damaged (its SHA-256 is not the one sent)' });
		process.exit(1);
	}
	fs.renameSync(tmp, file);
	say({ type: 'installed' });
}
process.argv = [process.execPath, file, 'ssh-host', dir];
require(file);
`;
