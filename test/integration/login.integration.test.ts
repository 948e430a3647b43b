import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatInitUrl } from '../../protocol/init-url';
import {
	runCli,
	spawnCli,
	startAgent,
	tempDir,
	type AgentProcess,
	type CliResult,
} from '../helpers/agent-process';
import { freePort, readAll, startEchoServer } from '../helpers/net';
import { within } from '../helpers/wait';

/**
 * `berth login` and `berth logout` against the real dist/server.js: a login is checked against
 * the agent before it is saved, then used from below its directory by a forward given neither -u
 * nor a token. (The agent does not take user tokens yet: these init URLs carry its connection
 * token, which the client's token rule accepts as it accepts a JWT's shape.)
 */

/** A user's world: a home, Berth's config folder in it, and a project with a subdirectory. */
interface World {
	readonly env: Record<string, string>;
	readonly configFile: string;
	readonly proj: string;
	readonly sub: string;
}

function world(): World {
	const home = tempDir('berth-login-home-');
	const proj = join(home, 'proj');
	const sub = join(proj, 'src', 'deep');
	mkdirSync(sub, { recursive: true });
	const configDir = join(home, '.config', 'berth');
	return {
		// BERTH_TOKEN empty: the runner's own must not shadow the saved login.
		env: { HOME: home, BERTH_CONFIG_DIR: configDir, BERTH_TOKEN: '', XDG_CONFIG_HOME: '' },
		configFile: join(configDir, 'config.json'),
		proj,
		sub,
	};
}

function savedSessions(w: World): Record<string, Record<string, unknown>> {
	return JSON.parse(readFileSync(w.configFile, 'utf8')).sessions;
}

describe('berth login and logout', () => {
	let agent: AgentProcess;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;
	let initUrl: string;

	before(async () => {
		agent = await startAgent();
		echo = await startEchoServer();
		initUrl = formatInitUrl(agent.url, { token: agent.token!, sessionPrefix: 'alice-' });
	});
	after(async () => {
		await echo.close();
		assert.equal(await agent.stop(), 0);
	});

	/** Runs the CLI in `cwd` of `w`, and checks that the token never reached its output. */
	async function cli(w: World, cwd: string, args: readonly string[], stdin?: string): Promise<CliResult> {
		const result = await runCli(args, { cwd, env: w.env, ...(stdin !== undefined ? { stdin } : {}) });
		assert.ok(
			!`${result.stdout}${result.stderr}`.includes(agent.token!),
			`the token was printed:\n${result.stderr}`,
		);
		return result;
	}

	async function login(w: World, ...extra: string[]): Promise<CliResult> {
		return cli(w, w.proj, ['login', '--init', initUrl, ...extra]);
	}

	it('checks the init URL`s token against the agent, then saves it for the directory (0600)', async () => {
		const w = world();
		const result = await login(w);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /^✓ Configuration saved for the connection token$/m);
		assert.ok(result.stdout.includes(`Backend: ${agent.url}\n`), result.stdout);
		assert.ok(result.stdout.includes(`Directory: ${w.proj} `), result.stdout);
		assert.match(result.stderr, /command line is visible to other users.*--init -/);
		assert.equal(statSync(w.configFile).mode & 0o777, 0o600);
		const entry = savedSessions(w)[w.proj];
		assert.equal(entry?.['auth_token'], agent.token);
		assert.equal(entry?.['backend_url'], agent.url);
		assert.equal(entry?.['session_prefix'], 'alice-');
	});

	it('lets `berth forward -L` from a subdirectory run with no -u and no token, and says which login it used', async () => {
		const w = world();
		assert.equal((await login(w)).code, 0);
		const forward = spawnCli(['forward', '-L', `0:127.0.0.1:${echo.port}`], { cwd: w.sub, env: w.env });
		try {
			const line = await forward.waitForStdout(/^Forwarding 127\.0\.0\.1:(\d+) -> .* via (\S+)$/);
			assert.equal(line[2], agent.url);
			await forward.waitForStderr(/using the login saved for .* \(the connection token\)/);
			const said = forward.stderr.find((l) => l.includes('using the login saved for'))!;
			assert.ok(said.includes(`using the login saved for ${w.proj} (the connection token)`), said);
			const socket = connect({ port: Number(line[1]), host: '127.0.0.1', allowHalfOpen: true });
			const answer = readAll(socket);
			socket.end('through the saved login');
			assert.equal((await within(answer, 5_000, 'the echo')).toString(), 'through the saved login');
		} finally {
			assert.equal(await forward.stop(), 0);
		}
		assert.ok(!forward.stderr.join('\n').includes(agent.token!), 'the forward printed the token');
	});

	it('after logout, says "No cached credentials" and how to get them (exit 2)', async () => {
		const w = world();
		assert.equal((await login(w)).code, 0);
		const out = await cli(w, w.sub, ['logout']);
		assert.equal(out.code, 0, out.stderr);
		assert.equal(out.stdout, `✓ Removed the login saved for ${w.proj} (the connection token)\n`);
		assert.deepEqual(savedSessions(w), {});
		for (const args of [
			['forward', '-L', `0:127.0.0.1:${echo.port}`],
			['forward', '-u', agent.url, '-L', `0:127.0.0.1:${echo.port}`],
		]) {
			const forward = await cli(w, w.sub, args);
			assert.equal(forward.code, 2, forward.stderr);
			assert.match(forward.stderr, /^berth: No cached credentials/m);
			assert.match(forward.stderr, /berth login --init URL/);
			assert.match(forward.stderr, /--token-file FILE/);
		}
		const again = await cli(w, w.sub, ['logout']);
		assert.equal(again.code, 0);
		assert.match(again.stdout, /^No login is saved for /);
	});

	it('logout --all clears every saved login', async () => {
		const w = world();
		assert.equal((await login(w)).code, 0);
		assert.equal((await cli(w, w.sub, ['login', '--init', initUrl])).code, 0);
		assert.equal(Object.keys(savedSessions(w)).length, 2);
		const out = await cli(w, w.proj, ['logout', '--all']);
		assert.equal(out.code, 0, out.stderr);
		assert.equal(out.stdout, '✓ Removed 2 saved logins\n');
		assert.deepEqual(savedSessions(w), {});
	});

	it('refuses to replace a login without --reauth, and replaces it with', async () => {
		const w = world();
		assert.equal((await login(w)).code, 0);
		const refused = await login(w, '--session-name', 'workstation');
		assert.equal(refused.code, 2, refused.stderr);
		assert.match(refused.stderr, /already saved for .*--reauth/);
		assert.equal(savedSessions(w)[w.proj]?.['session_name'], undefined);
		const replaced = await login(w, '--reauth', '--session-name', 'workstation');
		assert.equal(replaced.code, 0, replaced.stderr);
		assert.equal(savedSessions(w)[w.proj]?.['session_name'], 'workstation');
	});

	it('saves nothing when the agent refuses the token (exit 3, its reason) or cannot be reached (exit 4)', async () => {
		const w = world();
		const wrong = formatInitUrl(agent.url, { token: 'not-the-token-0123456789', sessionPrefix: '' });
		const refused = await cli(w, w.proj, ['login', '--init', wrong]);
		assert.equal(refused.code, 3, refused.stderr);
		assert.match(refused.stderr, /did not accept the token, so nothing was saved: .*auth mismatch/);
		const gone = formatInitUrl(`http://127.0.0.1:${await freePort()}`, {
			token: agent.token!,
			sessionPrefix: '',
		});
		const unreachable = await cli(w, w.proj, ['login', '--init', gone]);
		assert.equal(unreachable.code, 4, unreachable.stderr);
		assert.match(unreachable.stderr, /could not be reached, so nothing was saved/);
		assert.ok(!existsSync(w.configFile), 'no file written');
	});

	it('says which part of a bad init URL is wrong (exit 2), and never repeats the token', async () => {
		const w = world();
		const payload = initUrl.slice(initUrl.indexOf('/p/') + 3);
		const rows: [string, RegExp][] = [
			[initUrl.replace('/p/', '/q/'), /path is not \/p\//],
			[`${initUrl}?x=1`, /query \(\?\) or fragment/],
			[`${initUrl}/more`, /path is not \/p\//],
			[initUrl.replace(payload, payload.replace(/[A-Za-z]/, '~')), /not base64url/],
			[initUrl.replace(payload, Buffer.from('{"n":"x"}').toString('base64url')), /no t \(the token\)/],
			[initUrl.replace(payload, Buffer.from('{"t":"a.b"}').toString('base64url')), /t is not a token/],
			[initUrl.replace(payload, Buffer.from('not json').toString('base64url')), /does not decode to JSON/],
			['ftp://agent.example/p/x', /neither an init URL .* nor a token/],
		];
		for (const [url, pattern] of rows) {
			const result = await cli(w, w.proj, ['login', '--init', url]);
			assert.equal(result.code, 2, `${url}: ${result.stderr}`);
			assert.match(result.stderr, /^berth: login --init: /m);
			assert.match(result.stderr, pattern);
		}
		assert.ok(!existsSync(w.configFile));
	});

	it('reads the init URL from stdin with --init -, without the command-line warning', async () => {
		const w = world();
		const result = await cli(w, w.proj, ['login', '--init', '-'], `${initUrl}\n`);
		assert.equal(result.code, 0, result.stderr);
		assert.doesNotMatch(result.stderr, /command line is visible/);
		assert.equal(savedSessions(w)[w.proj]?.['auth_token'], agent.token);
	});

	it('takes a bare token with -u, and needs -u for one', async () => {
		const w = world();
		const bare = await cli(w, w.proj, ['login', '--init', '-'], `${agent.token}\n`);
		assert.equal(bare.code, 2, bare.stderr);
		assert.match(bare.stderr, /a bare token needs its agent: give -u URL/);
		const withUrl = await cli(w, w.proj, ['login', '--init', '-', '-u', agent.url], `${agent.token}\n`);
		assert.equal(withUrl.code, 0, withUrl.stderr);
		assert.equal(savedSessions(w)[w.proj]?.['backend_url'], agent.url);
	});

	it('never sends a saved login`s token to another agent named by -u', async () => {
		const w = world();
		assert.equal((await login(w)).code, 0);
		const other = `ws://127.0.0.1:${await freePort()}`;
		const forward = await cli(w, w.sub, ['forward', '-u', other, '-L', `0:127.0.0.1:${echo.port}`]);
		assert.equal(forward.code, 2, forward.stderr);
		assert.match(forward.stderr, /No cached credentials for ws:\/\/127\.0\.0\.1:\d+/);
		assert.ok(forward.stderr.includes(`the login saved for ${w.proj} is for ${agent.url}, not this agent`));
	});

	it('documents login and logout', async () => {
		const main = await runCli(['--help']);
		assert.match(main.stdout, /berth login --init URL/);
		assert.match(main.stdout, /berth logout \[--all\]/);
		const help = await runCli(['login', '--help']);
		assert.equal(help.code, 0);
		for (const flag of [
			'--init',
			'--url',
			'--session-name',
			'--reauth',
			'--transport',
			'--connect-timeout',
		]) {
			assert.ok(help.stdout.includes(flag), `login --help documents ${flag}`);
		}
		assert.match((await runCli(['logout', '-h'])).stdout, /--all/);
	});
});
