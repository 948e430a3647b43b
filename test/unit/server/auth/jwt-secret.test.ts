import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveJwtSecret, type JwtSecretFlags } from '../../../../server/auth/jwt-secret';

const dir = () => mkdtempSync(join(tmpdir(), 'berth-jwt-secret-'));
const mode = (path: string) => statSync(path).mode & 0o777;
const text = (key: Uint8Array) => new TextDecoder().decode(key);
/** 32 bytes exactly: the shortest secret accepted. */
const SECRET_32 = 'abcdefghijklmnopqrstuvwxyz012345';

function resolve(flags: Omit<JwtSecretFlags, 'warn'>) {
	const warnings: string[] = [];
	const secret = resolveJwtSecret({ ...flags, warn: (message) => warnings.push(message) });
	return { secret, warnings };
}

describe('the JWT signing secret', () => {
	it('is the text of --jwt-secret-file, one trailing newline stripped', () => {
		const d = dir();
		const path = join(d, 'secret');
		writeFileSync(path, `${SECRET_32}\n`, { mode: 0o600 });
		const { secret, warnings } = resolve({ secretFile: path, configDir: d });
		assert.deepEqual({ ...secret, key: text(secret.key) }, { key: SECRET_32, source: 'file', path });
		assert.deepEqual(warnings, []);
		writeFileSync(path, `${SECRET_32}\n\n`, { mode: 0o600 });
		assert.equal(text(resolve({ secretFile: path, configDir: d }).secret.key), `${SECRET_32}\n`);
	});

	it('refuses a file shorter than 32 bytes (or empty), saying how long it must be and how to make one', () => {
		const d = dir();
		const path = join(d, 'secret');
		for (const contents of [`${SECRET_32.slice(1)}\n`, '', '\n']) {
			writeFileSync(path, contents, { mode: 0o600 });
			assert.throws(() => resolveJwtSecret({ secretFile: path, configDir: d }), {
				code: 'BERTH_ERR_TOKEN',
				message: new RegExp(
					`--jwt-secret-file ${path} holds \\d+ bytes, and a signing secret needs at least 32 .*openssl rand`,
				),
			});
		}
	});

	it('counts bytes, not characters', () => {
		const d = dir();
		const path = join(d, 'secret');
		writeFileSync(path, 'é'.repeat(16), { mode: 0o600 }); // 16 characters, 32 bytes
		assert.equal(resolve({ secretFile: path, configDir: d }).secret.key.byteLength, 32);
	});

	it('warns about a secret file others can read, and still uses it', () => {
		const d = dir();
		const path = join(d, 'secret');
		writeFileSync(path, SECRET_32);
		chmodSync(path, 0o644);
		const { secret, warnings } = resolve({ secretFile: path, configDir: d });
		assert.equal(text(secret.key), SECRET_32);
		assert.match(
			warnings.join('\n'),
			/open to other users \(mode 0644\): the signing secret may have leaked/,
		);
		assert.equal(mode(path), 0o644, 'a file the user named keeps its mode');
	});

	it('refuses a missing --jwt-secret-file, naming it', () => {
		const d = dir();
		assert.throws(() => resolveJwtSecret({ secretFile: join(d, 'missing'), configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
			message: /cannot read --jwt-secret-file .*missing: ENOENT/,
		});
	});

	it('is generated once (32 random bytes, base64url), kept 0600 beside the connection token, and reused', () => {
		const d = join(dir(), 'config');
		const first = resolve({ configDir: d });
		const path = join(d, 'jwt-secret');
		assert.equal(first.secret.source, 'generated');
		assert.equal(first.secret.path, path);
		assert.match(text(first.secret.key), /^[A-Za-z0-9_-]{43}$/);
		assert.equal(readFileSync(path, 'utf8'), `${text(first.secret.key)}\n`);
		assert.equal(mode(path), 0o600);
		assert.equal(mode(d), 0o700);
		const second = resolve({ configDir: d });
		assert.deepEqual(second, { secret: { ...first.secret, source: 'stored' }, warnings: [] });
		assert.notEqual(text(resolve({ configDir: join(dir(), 'other') }).secret.key), text(first.secret.key));
	});

	it('refuses a stored secret that is too short, without replacing it', () => {
		const d = dir();
		const path = join(d, 'jwt-secret');
		writeFileSync(path, 'short\n', { mode: 0o600 });
		assert.throws(() => resolveJwtSecret({ configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
			message:
				/stored signing secret .* holds 5 bytes.*Berth does not replace it.*delete it to have a new one generated/,
		});
		assert.equal(readFileSync(path, 'utf8'), 'short\n');
	});

	it('refuses a stored secret that is a symbolic link, and tightens one others can read', () => {
		const d = dir();
		const elsewhere = join(dir(), 'target');
		writeFileSync(elsewhere, SECRET_32);
		symlinkSync(elsewhere, join(d, 'jwt-secret'));
		assert.throws(() => resolveJwtSecret({ configDir: d }), {
			code: 'BERTH_ERR_TOKEN',
			message: /is a symbolic link.*new signing secret generated, or give that file with --jwt-secret-file/,
		});
		const loose = dir();
		writeFileSync(join(loose, 'jwt-secret'), SECRET_32);
		chmodSync(join(loose, 'jwt-secret'), 0o640);
		const { secret, warnings } = resolve({ configDir: loose });
		assert.equal(text(secret.key), SECRET_32);
		assert.equal(mode(join(loose, 'jwt-secret')), 0o600);
		assert.match(warnings.join('\n'), /It is now 0600/);
	});
});
