import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, SERVER_JS, spawnCli, tempDir } from '../helpers/agent-process';
import { freePort } from '../helpers/net';
import { TestOidcProvider } from '../helpers/oidc-provider';

/**
 * `berth server --accounts --oidc-issuer …` as built (dist/server.js, openid-client inside it),
 * against a real OpenID Connect provider: what it checks at start, and what it says. The sign-in
 * itself is tested against the same provider in test/unit/server/auth/oidc-sign-in.test.ts.
 */
describe('berth server --oidc-issuer', () => {
	let provider: TestOidcProvider;
	let dir: string;
	let secretFile: string;

	before(async () => {
		provider = await TestOidcProvider.start();
		dir = tempDir('berth-oidc-');
		secretFile = join(dir, 'client-secret');
		writeFileSync(secretFile, provider.clientSecret + '\n', { mode: 0o600 });
	});
	after(async () => {
		await provider.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	const oidcArgs = () => [
		'--accounts',
		'--db',
		join(tempDir(), 'tokens.db'),
		'--oidc-issuer',
		provider.issuer,
		'--oidc-client-id',
		provider.clientId,
		'--oidc-client-secret-file',
		secretFile,
	];

	it('discovers the provider from a lone copy of dist/server.js, and says what to register there', async () => {
		const alone = mkdtempSync('/tmp/berth-oidc-alone-');
		after(() => rmSync(alone, { recursive: true, force: true }));
		for (let d = alone; d !== dirname(d); d = dirname(d)) {
			assert.ok(!existsSync(join(d, 'node_modules')), `${d}/node_modules exists: the test needs none above`);
		}
		const script = join(alone, 'berth-server.js');
		copyFileSync(SERVER_JS, script);
		const agent = spawnCli(
			[
				'server',
				'--port',
				'0',
				'--without-connection-token',
				...oidcArgs(),
				'--allow-email',
				'*@example.com',
				'--allow-email',
				'alice@other.test',
				'--public-url',
				'https://agent.example:8765',
			],
			{ script, cwd: alone, env: { NODE_PATH: '' } },
		);
		try {
			const line = await agent.waitForStdout(/^Sign-in: .*/, 15_000);
			assert.equal(
				line[0],
				`Sign-in: OpenID Connect at ${provider.issuer} for *@example.com, alice@other.test; ` +
					'register the redirect URI https://agent.example:8765/auth/callback with the provider',
			);
			assert.ok(!agent.stderr.join('\n').includes(provider.clientSecret), 'the secret is never printed');
		} finally {
			assert.equal(await agent.stop(), 0);
		}
	});

	it('stops with exit 4 and one line when the issuer cannot be reached', async () => {
		const issuer = `http://127.0.0.1:${await freePort()}`;
		const args = oidcArgs();
		args[args.indexOf('--oidc-issuer') + 1] = issuer;
		const cli = await runCli(['server', '--port', '0', ...args, '--allow-email', '*@example.com']);
		assert.equal(cli.code, 4, cli.stderr);
		assert.match(
			cli.stderr,
			/the OpenID Connect issuer http:\/\/127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)/,
		);
		assert.equal(cli.stdout, '', 'it never listened');
	});

	it('stops with exit 2 without --allow-email, without --accounts, or with a bad pattern', async () => {
		const cases: [args: string[], message: RegExp][] = [
			[oidcArgs(), /--oidc-issuer needs --allow-email PATTERN/],
			[oidcArgs().slice(3).concat('--allow-email', '*@example.com'), /go with --accounts/],
			[
				[...oidcArgs(), '--allow-email', 'example.com'],
				/--allow-email "example.com" is not an address pattern/,
			],
			[[...oidcArgs().slice(0, 5), '--allow-email', '*@example.com'], /needs --oidc-client-id ID/],
			[['--accounts', '--allow-email', '*@example.com'], /go with --oidc-issuer URL/],
			[
				[...oidcArgs(), '--allow-email', '*@example.com', '--public-url', 'https://agent.example/path'],
				/--public-url "https:\/\/agent.example\/path" is not an origin/,
			],
		];
		for (const [args, message] of cases) {
			const cli = await runCli(['server', '--port', '0', '--without-connection-token', ...args]);
			assert.equal(cli.code, 2, `${args.join(' ')}: ${cli.stderr}`);
			const errors = cli.stderr.split('\n').filter((line) => line.startsWith('berth: '));
			assert.equal(errors.length, 1, `one line says what is wrong: ${cli.stderr}`);
			assert.match(errors[0]!, message);
		}
	});

	it("warns at start that --allow-email '*' lets in everyone the issuer knows", async () => {
		const agent = spawnCli([
			'server',
			'--port',
			'0',
			'--without-connection-token',
			...oidcArgs(),
			'--allow-email',
			'*',
		]);
		try {
			await agent.waitForStdout(
				/^Sign-in: OpenID Connect at .* for \*; register the redirect URI <how browsers/,
			);
			await agent.waitForStderr(
				/--allow-email '\*': everyone with a verified email at http:\/\/127\.0\.0\.1:\d+ may sign in/,
			);
		} finally {
			assert.equal(await agent.stop(), 0);
		}
	});
});
