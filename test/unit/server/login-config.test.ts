import assert from 'node:assert/strict';
import {
	chmodSync,
	lstatSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
	findSavedLogin,
	LAST_USED_INTERVAL_MS,
	LOGIN_CONFIG_FILE,
	parseLoginConfig,
	readLoginConfig,
	removeAllLogins,
	removeLogin,
	saveLogin,
	touchLogin,
	writeLoginConfig,
	type LoginConfig,
	type SavedLogin,
} from '../../../server/client/login-config';
import { MAX_SECRET_FILE_BYTES } from '../../../server/shared/secret-file';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
const configDir = () => join(mkdtempSync(join(tmpdir(), 'berth-logins-')), 'berth');
const fileOf = (dir: string) => join(dir, LOGIN_CONFIG_FILE);
const mode = (path: string) => statSync(path).mode & 0o777;

function login(overrides: Partial<SavedLogin> = {}): SavedLogin {
	return {
		user_id: 'u1',
		auth_token: JWT,
		user_email: 'alice@example.com',
		last_used: '2026-01-09T12:00:00.000Z',
		backend_url: 'wss://agent.example',
		session_prefix: 'alice-',
		...overrides,
	};
}

/** A config with the given sessions, the rest default. */
function config(sessions: Record<string, SavedLogin>): LoginConfig {
	return { sessions, preferences: { default_backend_url: null, auto_open_browser: false } };
}

describe('login config: the file', () => {
	it('reads as empty when there is none', () => {
		assert.deepEqual(readLoginConfig(configDir()), config({}));
	});

	it('is written 0600 in a folder made 0700, whatever the umask', () => {
		const dir = configDir();
		const umask = process.umask(0);
		try {
			saveLogin(dir, '/home/u/proj', login(), false);
		} finally {
			process.umask(umask);
		}
		assert.equal(mode(dir), 0o700);
		assert.equal(mode(fileOf(dir)), 0o600);
		assert.deepEqual(readLoginConfig(dir).sessions['/home/u/proj'], login());
	});

	it('is replaced whole by a rename, leaving no temporary file behind', () => {
		const dir = configDir();
		saveLogin(dir, '/a', login(), false);
		const before = lstatSync(fileOf(dir)).ino;
		saveLogin(dir, '/b', login({ user_email: 'bob@example.com' }), false);
		assert.notEqual(lstatSync(fileOf(dir)).ino, before, 'a new file took the old one`s name');
		assert.deepEqual(readdirSync(dir), [LOGIN_CONFIG_FILE]);
		assert.deepEqual(Object.keys(readLoginConfig(dir).sessions).sort(), ['/a', '/b']);
	});

	it('keeps the seed`s shape on disk, and members it does not know', () => {
		const dir = configDir();
		writeLoginConfigText(dir, {
			sessions: { '/p': { ...login(), device: 'x1' } },
			preferences: { default_backend_url: null, auto_open_browser: true, theme: 'dark' },
			version: 3,
		});
		saveLogin(dir, '/q', login(), false);
		touchLogin(dir, '/p', new Date('2027-01-01T00:00:00Z'));
		const raw = JSON.parse(readFileSync(fileOf(dir), 'utf8'));
		assert.equal(raw.version, 3);
		assert.equal(raw.preferences.theme, 'dark');
		assert.equal(raw.preferences.auto_open_browser, true);
		assert.equal(raw.sessions['/p'].device, 'x1');
		assert.equal(raw.sessions['/p'].last_used, '2027-01-01T00:00:00.000Z');
		assert.deepEqual(Object.keys(raw.sessions['/q']), [
			'user_id',
			'auth_token',
			'user_email',
			'last_used',
			'backend_url',
			'session_prefix',
		]);
	});

	it('tightens a file open to others to 0600, with a warning', () => {
		const dir = configDir();
		saveLogin(dir, '/a', login(), false);
		chmodSync(fileOf(dir), 0o644);
		const warnings: string[] = [];
		readLoginConfig(dir, (message) => warnings.push(message));
		assert.equal(mode(fileOf(dir)), 0o600);
		assert.equal(warnings.length, 1);
		assert.match(warnings[0]!, /open to other users \(mode 0644\).*now 0600/);
	});

	it('refuses a symbolic link, and leaves what it points to alone', () => {
		const dir = configDir();
		saveLogin(dir, '/a', login(), false);
		const elsewhere = join(mkdtempSync(join(tmpdir(), 'berth-elsewhere-')), 'target.json');
		writeFileSync(elsewhere, readFileSync(fileOf(dir)), { mode: 0o644 });
		writeLoginConfig(dir, config({})); // make room for the link
		const file = fileOf(dir);
		rmSync(file);
		symlinkSync(elsewhere, file);
		assert.throws(() => saveLogin(dir, '/b', login(), false), /is a symbolic link/);
		assert.equal(mode(elsewhere), 0o644);
		assert.ok(lstatSync(file).isSymbolicLink());
	});

	it(`refuses a file over ${MAX_SECRET_FILE_BYTES / 1024} KiB`, () => {
		const dir = configDir();
		writeLoginConfig(dir, config({}));
		writeFileSync(fileOf(dir), ' '.repeat(MAX_SECRET_FILE_BYTES + 1));
		assert.throws(() => readLoginConfig(dir), /over 1024 KiB/);
	});
});

describe('login config: a corrupt file', () => {
	const rows: [string, string, RegExp][] = [
		['not JSON', '{"sessions": ', /it is not JSON/],
		['not an object', '[1]', /it is not a JSON object/],
		['sessions not an object', '{"sessions": []}', /sessions is not an object/],
		[
			'a relative directory',
			JSON.stringify({ sessions: { 'proj/x': login() } }),
			/key "proj\/x".*not an absolute/,
		],
		[
			'a directory with ..',
			JSON.stringify({ sessions: { '/a/../b': login() } }),
			/not an absolute directory/,
		],
		[
			'an entry not an object',
			JSON.stringify({ sessions: { '/a': 'x' } }),
			/sessions\["\/a"\] is not an object/,
		],
		[
			'a member missing',
			JSON.stringify({ sessions: { '/a': { ...login(), user_email: undefined } } }),
			/sessions\["\/a"\]\.user_email is missing or not a string/,
		],
		[
			'a token that is none',
			JSON.stringify({ sessions: { '/a': login({ auth_token: 'not a token' }) } }),
			/sessions\["\/a"\]\.auth_token is not valid/,
		],
		[
			'a bad date',
			JSON.stringify({ sessions: { '/a': login({ last_used: 'yesterday' }) } }),
			/\.last_used is not valid/,
		],
		[
			'an agent URL holding a token',
			JSON.stringify({ sessions: { '/a': login({ backend_url: 'ws://h:1/?tkn=x' }) } }),
			/\.backend_url is not valid/,
		],
		[
			'a bad session name',
			JSON.stringify({ sessions: { '/a': { ...login(), session_name: '' } } }),
			/\.session_name is not valid/,
		],
		['preferences not an object', '{"preferences": 1}', /preferences is not an object/],
		[
			'a bad default agent',
			'{"preferences": {"default_backend_url": "ftp://x"}}',
			/default_backend_url is not an agent URL/,
		],
		['a bad auto_open_browser', '{"preferences": {"auto_open_browser": "yes"}}', /auto_open_browser/],
	];
	for (const [what, text, pattern] of rows) {
		it(`${what}: a usage error naming the file and the member`, () => {
			assert.throws(
				() => parseLoginConfig(text, '/home/u/.config/berth/config.json'),
				(error: Error & { code?: string }) => {
					assert.equal(error.code, 'BERTH_ERR_USAGE');
					assert.match(
						error.message,
						/^the saved logins \/home\/u\/\.config\/berth\/config\.json cannot be read: /,
					);
					assert.match(error.message, pattern);
					assert.match(error.message, /fix the file, or delete it/);
					assert.ok(!error.message.includes('not a token'), 'the value is not repeated');
					return true;
				},
			);
		});
	}

	it('is reported by every operation, and left as it was', () => {
		const dir = configDir();
		writeLoginConfig(dir, config({}));
		writeFileSync(fileOf(dir), '{broken');
		for (const operation of [
			() => readLoginConfig(dir),
			() => saveLogin(dir, '/a', login(), false),
			() => removeLogin(dir, '/a'),
			() => removeAllLogins(dir),
		]) {
			assert.throws(
				operation,
				new RegExp(`${fileOf(dir).replace(/[/.]/g, '\\$&')} cannot be read: it is not JSON`),
			);
		}
		assert.equal(readFileSync(fileOf(dir), 'utf8'), '{broken');
	});

	it('takes a file with no sessions or preferences at all', () => {
		assert.deepEqual(parseLoginConfig('{}', 'f'), config({}));
	});
});

describe('login config: which login applies', () => {
	const saved = config({
		'/': login({ user_email: 'root@example.com' }),
		'/home/u': login({ user_email: 'u@example.com' }),
		'/home/u/proj/deep': login({ user_email: 'deep@example.com' }),
	});
	const rows: [string, string | undefined][] = [
		['/home/u', '/home/u'],
		['/home/u/proj', '/home/u'],
		['/home/u/proj/deep', '/home/u/proj/deep'],
		['/home/u/proj/deep/er/still', '/home/u/proj/deep'],
		['/home/u/proj/deeper', '/home/u'], // a name that starts the same is not below it
		['/home/u/proj/./deep/x/..', '/home/u/proj/deep'],
		['/home/other', '/'],
	];
	for (const [cwd, dir] of rows) {
		it(`${cwd} → ${dir}`, () => assert.equal(findSavedLogin(saved, cwd)?.dir, dir));
	}

	it('none when no directory above has one', () => {
		const only = config({ '/srv/app': login() });
		assert.equal(findSavedLogin(only, '/home/u'), undefined);
		assert.equal(findSavedLogin(only, '/srv'), undefined);
		assert.equal(findSavedLogin(config({}), '/'), undefined);
	});

	it('returns the login itself', () => {
		assert.equal(findSavedLogin(saved, '/home/u/x')?.login.user_email, 'u@example.com');
	});
});

describe('login config: saving and removing', () => {
	it('refuses to replace a login unless told to', () => {
		const dir = configDir();
		saveLogin(dir, '/p', login(), false);
		assert.throws(
			() => saveLogin(dir, '/p', login({ user_email: 'bob@example.com' }), false),
			(error: Error & { code?: string }) =>
				error.code === 'BERTH_ERR_USAGE' &&
				/already saved for \/p \(alice@example\.com\).*--reauth/.test(error.message),
		);
		saveLogin(dir, '/p', login({ user_email: 'bob@example.com' }), true);
		assert.equal(readLoginConfig(dir).sessions['/p']?.user_email, 'bob@example.com');
	});

	it('removes exactly one directory`s login', () => {
		const dir = configDir();
		saveLogin(dir, '/p', login(), false);
		saveLogin(dir, '/p/q', login({ user_email: 'q@example.com' }), false);
		assert.equal(removeLogin(dir, '/p/q')?.user_email, 'q@example.com');
		assert.equal(removeLogin(dir, '/p/q'), undefined);
		assert.deepEqual(Object.keys(readLoginConfig(dir).sessions), ['/p']);
	});

	it('removes them all, keeping the preferences', () => {
		const dir = configDir();
		writeLoginConfig(dir, {
			sessions: { '/a': login(), '/b': login() },
			preferences: { default_backend_url: 'ws://127.0.0.1:8765', auto_open_browser: true },
		});
		assert.equal(removeAllLogins(dir), 2);
		assert.equal(removeAllLogins(dir), 0);
		assert.deepEqual(readLoginConfig(dir), {
			sessions: {},
			preferences: { default_backend_url: 'ws://127.0.0.1:8765', auto_open_browser: true },
		});
	});

	it(`records the last use at most once per ${LAST_USED_INTERVAL_MS / 1000} s`, () => {
		const dir = configDir();
		const start = Date.parse('2026-03-01T10:00:00Z');
		saveLogin(dir, '/p', login({ last_used: new Date(start).toISOString() }), false);
		assert.equal(touchLogin(dir, '/p', new Date(start + LAST_USED_INTERVAL_MS - 1)), false);
		assert.equal(readLoginConfig(dir).sessions['/p']?.last_used, new Date(start).toISOString());
		const later = new Date(start + LAST_USED_INTERVAL_MS);
		assert.equal(touchLogin(dir, '/p', later), true);
		assert.equal(readLoginConfig(dir).sessions['/p']?.last_used, later.toISOString());
		assert.equal(touchLogin(dir, '/gone', later), false);
	});
});

function writeLoginConfigText(dir: string, value: unknown): void {
	writeLoginConfig(dir, config({})); // makes the folder
	writeFileSync(fileOf(dir), JSON.stringify(value));
}
