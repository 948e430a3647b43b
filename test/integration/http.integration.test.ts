import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startAgent, type AgentProcess } from '../helpers/agent-process';
import { readAll } from '../helpers/net';
import { UpgradeRefused, WireClient } from '../helpers/wire-client';

/** The agent's plain HTTP and its upgrade checks, on the real dist/server.js. */

interface HttpAnswer {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	readonly body: string;
}

/** One HTTP request on its own connection (no keep-alive pool), headers exactly as given. */
function httpRequest(
	port: number,
	path: string,
	options: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
	return new Promise((resolve, reject) => {
		const req = request(
			{
				host: '127.0.0.1',
				port,
				path,
				method: options.method ?? 'GET',
				headers: options.headers,
				agent: false,
			},
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (body += chunk));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
				res.on('error', reject);
			},
		);
		req.on('error', reject);
		req.end();
	});
}

/** Writes `text` as is on a fresh TCP connection and reads until the agent closes it. */
async function rawExchange(port: number, text: string): Promise<string> {
	const socket = connect({ port, host: '127.0.0.1' });
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	const answer = readAll(socket);
	socket.write(text);
	return (await answer).toString('utf8');
}

/** The body of a raw HTTP/1.1 response, chunked or not. */
function bodyOf(response: string): string {
	const end = response.indexOf('\r\n\r\n');
	assert.ok(end >= 0, `no end of headers in ${JSON.stringify(response)}`);
	const head = response.slice(0, end);
	let rest = response.slice(end + 4);
	if (!/^transfer-encoding: chunked$/im.test(head)) {
		return rest;
	}
	let body = '';
	for (;;) {
		const eol = rest.indexOf('\r\n');
		const size = parseInt(rest.slice(0, eol), 16);
		if (!(size > 0)) {
			return body;
		}
		body += rest.slice(eol + 2, eol + 2 + size);
		rest = rest.slice(eol + 2 + size + 2);
	}
}

/** Expects an upgrade to be refused with `status`; returns the agent's response. */
async function expectUpgradeRefused(promise: Promise<WireClient>, status: number): Promise<string> {
	const error = await promise.then(
		(client) => {
			client.destroy();
			return assert.fail(`the upgrade was accepted, expected ${status}`);
		},
		(e: unknown) => e,
	);
	assert.ok(error instanceof UpgradeRefused, `expected an HTTP refusal, got ${String(error)}`);
	assert.match(error.response, new RegExp(`^HTTP/1\\.1 ${status}( |$)`), error.response);
	return error.response;
}

describe('agent HTTP', () => {
	let agent: AgentProcess;
	let token: string;
	let commit: string;
	let version: string;

	before(async () => {
		const cli = await runCli(['--version']);
		assert.equal(cli.code, 0, cli.stderr);
		commit = /^commit (\S+)$/m.exec(cli.stdout)?.[1] ?? assert.fail(`no commit in: ${cli.stdout}`);
		version = /^berth (\S+)$/m.exec(cli.stdout)?.[1] ?? assert.fail(`no version in: ${cli.stdout}`);
		agent = await startAgent();
		token = agent.token!;
	});
	after(async () => {
		assert.equal(await agent.stop(), 0);
	});

	it('answers GET /version with exactly the commit, without a token', async () => {
		const answer = await httpRequest(agent.port, '/version');
		assert.equal(answer.status, 200);
		assert.equal(answer.body, commit);
		assert.match(String(answer.headers['content-type']), /^text\/plain/);
	});

	it('turns ?tkn= into a cookie and redirects to the same URL without the token', async () => {
		const answer = await httpRequest(agent.port, `/?tkn=${token}`);
		assert.equal(answer.status, 302);
		const location = String(answer.headers.location);
		assert.equal(location, '/');
		assert.doesNotMatch(location, /tkn/);
		const cookies = answer.headers['set-cookie'] ?? [];
		assert.equal(cookies.length, 1, `one Set-Cookie: ${JSON.stringify(cookies)}`);
		const cookie = cookies[0]!;
		const expected = `vscode-tkn=${token}; Max-Age=604800; HttpOnly; SameSite=Strict`;
		assert.ok(cookie.startsWith(expected), `Set-Cookie ${JSON.stringify(cookie)} starts with ${expected}`);
		// Path=/ is the only extra attribute allowed (it widens nothing: the page is /).
		assert.match(cookie.slice(expected.length), /^(; Path=\/)?$/, `extra attributes in ${cookie}`);
	});

	it('keeps the other query parameters when it drops the token from the URL', async () => {
		const answer = await httpRequest(agent.port, `/?a=1&tkn=${token}&b=2`);
		assert.equal(answer.status, 302);
		assert.equal(answer.headers.location, '/?a=1&b=2');
	});

	it('accepts the cookie afterwards: 200 and a status page that names the version', async () => {
		const redirect = await httpRequest(agent.port, `/?tkn=${token}`);
		const cookie = String(redirect.headers['set-cookie']![0]).split(';')[0]!;
		const answer = await httpRequest(agent.port, String(redirect.headers.location), {
			headers: { Cookie: cookie },
		});
		assert.equal(answer.status, 200);
		assert.match(String(answer.headers['content-type']), /^text\/html/);
		assert.ok(answer.body.includes(version), `the status page mentions ${version}`);
		assert.ok(answer.body.includes(commit), `the status page mentions ${commit}`);
		assert.ok(!answer.body.includes(token), 'the status page never shows the token');
	});

	it('refuses a request without a token: 403', async () => {
		assert.equal((await httpRequest(agent.port, '/')).status, 403);
	});

	it('refuses a wrong token in the query: 403', async () => {
		const answer = await httpRequest(agent.port, '/?tkn=not-the-token');
		assert.equal(answer.status, 403);
		assert.equal(answer.headers['set-cookie'], undefined, 'no cookie for a wrong token');
	});

	it('refuses a wrong cookie: 403', async () => {
		const answer = await httpRequest(agent.port, '/', { headers: { Cookie: 'vscode-tkn=not-the-token' } });
		assert.equal(answer.status, 403);
	});

	it('lets a token in the query decide on its own, even next to a valid cookie', async () => {
		const answer = await httpRequest(agent.port, '/?tkn=wrong', {
			headers: { Cookie: `vscode-tkn=${token}` },
		});
		assert.equal(answer.status, 403);
	});

	it('answers POST with 405', async () => {
		const answer = await httpRequest(agent.port, `/?tkn=${token}`, { method: 'POST' });
		assert.equal(answer.status, 405);
		assert.equal(answer.headers.allow, 'GET');
	});

	it('answers an unknown path with a valid token 404, and without one 403', async () => {
		assert.equal((await httpRequest(agent.port, `/no/such/page?tkn=${token}`)).status, 404);
		assert.equal(
			(await httpRequest(agent.port, '/no/such/page', { headers: { Cookie: `vscode-tkn=${token}` } })).status,
			404,
		);
		assert.equal((await httpRequest(agent.port, '/no/such/page')).status, 403);
	});

	it('serves a request that has no Host header (VS Code desktop sends none)', async () => {
		const version = await rawExchange(agent.port, 'GET /version HTTP/1.1\r\nConnection: close\r\n\r\n');
		assert.match(version, /^HTTP\/1\.1 200 /);
		assert.equal(bodyOf(version), commit);
		const page = await rawExchange(agent.port, `GET /?tkn=${token} HTTP/1.1\r\nConnection: close\r\n\r\n`);
		assert.match(page, /^HTTP\/1\.1 302 /);
	});

	it('answers loopback Host names on a loopback agent', async () => {
		for (const host of [`127.0.0.1:${agent.port}`, `localhost:${agent.port}`, `[::1]:${agent.port}`]) {
			const answer = await httpRequest(agent.port, `/?tkn=${token}`, { headers: { Host: host } });
			assert.equal(answer.status, 302, `Host: ${host}`);
		}
	});

	it('refuses a foreign Host on a loopback agent (DNS rebinding): 403 for GET', async () => {
		const host = `evil.example:${agent.port}`;
		assert.equal((await httpRequest(agent.port, `/?tkn=${token}`, { headers: { Host: host } })).status, 403);
		assert.equal((await httpRequest(agent.port, '/version', { headers: { Host: host } })).status, 403);
	});

	it('refuses a foreign Host on a loopback agent (DNS rebinding): 403 for an upgrade', async () => {
		const headers = { Host: `evil.example:${agent.port}` };
		await expectUpgradeRefused(WireClient.raw(agent.port, { headers }), 403);
		await expectUpgradeRefused(WireClient.ws(agent.port, { headers }), 403);
	});

	it('refuses an upgrade from another site (cross-site WebSocket hijacking): 403', async () => {
		const headers = { Origin: 'http://evil.example' };
		const response = await expectUpgradeRefused(WireClient.raw(agent.port, { headers }), 403);
		assert.match(response, /cross-origin/i);
		await expectUpgradeRefused(WireClient.ws(agent.port, { headers }), 403);
		await expectUpgradeRefused(WireClient.raw(agent.port, { headers: { Origin: 'null' } }), 403);
	});

	it("accepts an upgrade whose Origin is the agent's own, and completes the handshake", async () => {
		for (const framing of ['raw', 'ws'] as const) {
			const options = { headers: { Origin: `http://127.0.0.1:${agent.port}` } };
			const client =
				framing === 'raw'
					? await WireClient.raw(agent.port, options)
					: await WireClient.ws(agent.port, options);
			const { reply } = await client.handshake({ token, connectionType: 1, commit });
			assert.deepEqual(reply, { type: 'ok' }, framing);
			client.destroy();
		}
	});

	it('answers an upgrade to anything but websocket with 400', async () => {
		const response = await expectUpgradeRefused(
			WireClient.raw(agent.port, { headers: { Upgrade: 'foo' } }),
			400,
		);
		assert.match(response, /websocket/);
	});
});
