import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
	readLoginConfig,
	saveLogin,
	writeLoginConfig,
	type SavedLogin,
} from '../../../server/client/login-config';
import { readTokenClaims } from '../../../server/client/token-claims';
import { resolveClientCredentials, type CredentialFlags } from '../../../server/cli/client-credentials';
import { createLogger } from '../../../server/shared/log';

const SAVED_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
const FILE_TOKEN = 'token-from-the-file-0001';
const ENV_TOKEN = 'token-from-the-environment';
const NOW = new Date('2026-05-01T12:00:00Z');

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

function savedLogin(overrides: Partial<SavedLogin> = {}): SavedLogin {
	return {
		user_id: 'u1',
		auth_token: SAVED_TOKEN,
		user_email: 'alice@example.com',
		last_used: '2026-01-01T00:00:00.000Z',
		backend_url: 'wss://agent.example',
		session_prefix: 'alice-',
		...overrides,
	};
}

/** A config folder with a login saved for <root>/proj, and a working directory below it. */
function setup(login = savedLogin()): { configDir: string; proj: string; cwd: string } {
	const root = temp('berth-creds-');
	const configDir = join(root, 'config');
	const proj = join(root, 'proj');
	saveLogin(configDir, proj, login, false);
	return { configDir, proj, cwd: join(proj, 'src', 'deep') };
}

/** resolveClientCredentials with its log lines collected. */
async function resolve(flags: Omit<CredentialFlags, 'log' | 'now' | 'env'> & { env?: NodeJS.ProcessEnv }) {
	const lines: string[] = [];
	const log = createLogger({ format: 'text', level: 'debug', write: (line) => lines.push(line) });
	const credentials = await resolveClientCredentials({ env: {}, ...flags, log, now: () => NOW });
	return { ...credentials, lines };
}

function tokenFile(): string {
	const file = join(temp('berth-token-'), 'token');
	writeFileSync(file, FILE_TOKEN + '\n', { mode: 0o600 });
	return file;
}

describe('resolveClientCredentials: the token lookup order', () => {
	it('1. --token-file, over $BERTH_TOKEN and the saved login (at debug: the user named it)', async () => {
		const { configDir, cwd } = setup();
		const file = tokenFile();
		const got = await resolve({
			configDir,
			cwd,
			url: 'ws://127.0.0.1:8765',
			tokenFile: file,
			env: { BERTH_TOKEN: ENV_TOKEN },
		});
		assert.equal(got.token, FILE_TOKEN);
		assert.equal(got.address.display, 'ws://127.0.0.1:8765');
		assert.equal(got.saved, undefined);
		assert.deepEqual(
			got.lines.map((l) => l.replace(/^\S+ /, '')),
			[`debug using the token in ${file}`],
		);
	});

	it('2. $BERTH_TOKEN, over the saved login', async () => {
		const { configDir, cwd } = setup();
		const got = await resolve({
			configDir,
			cwd,
			url: 'wss://agent.example',
			env: { BERTH_TOKEN: ENV_TOKEN },
		});
		assert.equal(got.token, ENV_TOKEN);
		assert.match(got.lines.join('\n'), /info {2}using \$BERTH_TOKEN$/);
	});

	it('3. the login saved for an ancestor: its token and its agent, said with the directory and email', async () => {
		const { configDir, proj, cwd } = setup();
		const got = await resolve({ configDir, cwd });
		assert.equal(got.token, SAVED_TOKEN);
		assert.equal(got.address.display, 'wss://agent.example');
		assert.equal(got.saved?.dir, proj);
		assert.equal(got.sessionName, `alice-${hostname()}`.slice(0, 128));
		assert.deepEqual(
			got.lines.map((l) => l.replace(/^\S+ /, '')),
			[`info  using the login saved for ${proj} (alice@example.com)`],
		);
		assert.equal(
			readLoginConfig(configDir).sessions[proj]?.last_used,
			NOW.toISOString(),
			'its use is recorded',
		);
	});

	it('3. the saved login with a -u that names its agent, however spelled', async () => {
		const { configDir, cwd } = setup();
		const got = await resolve({ configDir, cwd, url: 'wss://AGENT.example:443/' });
		assert.equal(got.token, SAVED_TOKEN);
	});

	it('the session name: --session-name, else the login`s own, else its prefix and the host', async () => {
		const named = setup(savedLogin({ session_name: 'workstation' }));
		assert.equal((await resolve({ ...named })).sessionName, 'workstation');
		assert.equal((await resolve({ ...named, sessionName: 'other' })).sessionName, 'other');
		const { configDir, cwd } = setup();
		const env = { BERTH_TOKEN: ENV_TOKEN };
		const plain = await resolve({ configDir, cwd, env, url: 'ws://127.0.0.1:1' });
		assert.equal(plain.sessionName, hostname().slice(0, 128), 'no login: the host name alone');
	});

	it('no agent: the default_backend_url preference', async () => {
		const configDir = join(temp('berth-creds-'), 'config');
		writeLoginConfig(configDir, {
			sessions: {},
			preferences: { default_backend_url: 'ws://127.0.0.1:9999', auto_open_browser: false },
		});
		const got = await resolve({ configDir, cwd: '/', env: { BERTH_TOKEN: ENV_TOKEN } });
		assert.equal(got.address.display, 'ws://127.0.0.1:9999');
		assert.equal(got.token, ENV_TOKEN);
	});

	it('--no-token: no token at all, and no saved login read', async () => {
		const { configDir, cwd } = setup();
		const got = await resolve({ configDir, cwd, url: 'ws://127.0.0.1:1', noToken: true });
		assert.equal(got.token, undefined);
		assert.deepEqual(got.lines, []);
	});
});

describe('resolveClientCredentials: refusals', () => {
	it('no -u, no token, no login: "No cached credentials", saying how to get them', async () => {
		const configDir = join(temp('berth-creds-'), 'config');
		await assert.rejects(resolve({ configDir, cwd: '/srv/app' }), (error: Error & { code?: string }) => {
			assert.equal(error.code, 'BERTH_ERR_TOKEN');
			assert.match(
				error.message,
				/^No cached credentials: .*no login saved for \/srv\/app or a folder above it/,
			);
			assert.match(error.message, /berth login --init URL/);
			assert.match(error.message, /-u URL and --token-file FILE/);
			return true;
		});
	});

	it('a token given without -u: the saved login is not used, nor its agent, and the message says why', async () => {
		const { configDir, proj, cwd } = setup();
		await assert.rejects(
			resolve({ configDir, cwd, env: { BERTH_TOKEN: ENV_TOKEN } }),
			(error: Error & { code?: string }) => {
				assert.equal(error.code, 'BERTH_ERR_USAGE');
				assert.ok(
					error.message.includes(`$BERTH_TOKEN was given, so the login saved for ${proj}`),
					error.message,
				);
				assert.ok(!error.message.includes(ENV_TOKEN), 'never the token');
				return true;
			},
		);
	});

	it('a bad --session-name, and a token that is none', async () => {
		const { configDir, cwd } = setup();
		await assert.rejects(resolve({ configDir, cwd, sessionName: 'a\nb' }), /--session-name must be 1 to 128/);
		await assert.rejects(
			resolve({ configDir, cwd, url: 'ws://h:1', env: { BERTH_TOKEN: 'two words' } }),
			/\$BERTH_TOKEN is not a valid token/,
		);
	});

	it('a JWT-shaped token from the environment is accepted as it is', async () => {
		const { configDir, cwd } = setup();
		const got = await resolve({ configDir, cwd, url: 'ws://h:1', env: { BERTH_TOKEN: SAVED_TOKEN } });
		assert.equal(got.token, SAVED_TOKEN);
	});
});

describe('readTokenClaims', () => {
	it('reads sub, email and exp of a signed user token, without its key', async () => {
		const token = await new SignJWT({ email: 'alice@example.com', role: 'client' })
			.setProtectedHeader({ alg: 'HS256' })
			.setSubject('123e4567')
			.setExpirationTime(2_000_000_000)
			.sign(new TextEncoder().encode('k'.repeat(32)));
		assert.deepEqual(readTokenClaims(token), {
			userId: '123e4567',
			email: 'alice@example.com',
			expiresAt: 2_000_000_000,
		});
	});

	it('names nobody for a connection token', () => {
		assert.deepEqual(readTokenClaims('A-b_9-long-enough'), { userId: '', email: '' });
	});

	it('refuses a JWT-shaped token whose payload is not JSON', () => {
		assert.throws(
			() => readTokenClaims('eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2ln'),
			(error: Error & { code?: string }) =>
				error.code === 'BERTH_ERR_TOKEN' && /payload cannot be read/.test(error.message),
		);
	});
});
