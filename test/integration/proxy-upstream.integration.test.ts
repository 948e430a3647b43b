import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curl, startWeb } from '../helpers/proxy-clients';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';

/**
 * `--upstream`: where egress needs a proxy. The upstream here is a real one, Berth's own
 * `forward -D` through a second agent whose policy denies one port: a refusal that only that
 * agent can give proves the traffic went through the upstream, over SOCKS5 and over HTTP CONNECT.
 */

async function startProxy(
	agent: AgentProcess,
	extra: readonly string[] = [],
): Promise<{ cli: CliProcess; port: number }> {
	const file = join(tempDir(), 'token');
	writeFileSync(file, agent.token + '\n', { mode: 0o600 });
	const cli = spawnCli(['forward', '-D', '0', '-u', agent.url, '--token-file', file, ...extra]);
	const line = await cli.waitForStdout(/^Proxy \(SOCKS5 and HTTP\) on 127\.0\.0\.1:(\d+),/, 15_000);
	return { cli, port: Number(line[1]) };
}

describe('--upstream: egress through another proxy', () => {
	let web: { port: number; close(): Promise<void> };
	let denied: { port: number; close(): Promise<void> };
	let upstreamAgent: AgentProcess;
	let upstream: { cli: CliProcess; port: number };

	before(async () => {
		web = await startWeb();
		denied = await startWeb();
		upstreamAgent = await startAgent({ args: ['--deny', `127.0.0.1:${denied.port}`] });
		upstream = await startProxy(upstreamAgent);
	});
	after(async () => {
		await upstream?.cli.stop();
		await upstreamAgent?.stop();
		await web?.close();
		await denied?.close();
	});

	for (const scheme of ['socks5', 'http'] as const) {
		it(`sends an agent's egress through a ${scheme} upstream, whose answers come back`, async () => {
			const agent = await startAgent({ args: ['--upstream', `${scheme}://127.0.0.1:${upstream.port}`] });
			after(() => agent.stop());
			const proxy = await startProxy(agent);
			after(() => proxy.cli.stop());
			const ok = await curl([
				'--socks5-hostname',
				`127.0.0.1:${proxy.port}`,
				`http://localhost:${web.port}/${scheme}`,
			]);
			assert.deepEqual([ok.code, ok.stdout], [0, `hello /${scheme}`]);
			// Only the upstream's agent denies this port: the refusal shows the path went through it.
			const refused = await curl([
				'--socks5-hostname',
				`127.0.0.1:${proxy.port}`,
				`http://127.0.0.1:${denied.port}/`,
			]);
			assert.equal(refused.code, 97);
			assert.match(refused.stderr, /\(2\)/, 'the upstream policy refusal, as SOCKS reply 0x02');
		});
	}

	it('says which upstream failed when it cannot be reached', async () => {
		const agent = await startAgent({ args: ['--upstream', 'socks5://127.0.0.1:9'] });
		after(() => agent.stop());
		const proxy = await startProxy(agent);
		after(() => proxy.cli.stop());
		const result = await curl([
			'-p',
			'-x',
			`http://127.0.0.1:${proxy.port}`,
			`http://127.0.0.1:${web.port}/`,
		]);
		assert.match(result.stderr, /response 502/);
		await agent.waitForLog(/through socks5:\/\/127\.0\.0\.1:9: the upstream proxy: connect ECONNREFUSED/);
	});

	it('refuses an upstream URL it cannot use, naming the forms it takes and never echoing a password', async () => {
		const agent = spawnCli(['server', '--port', '0', '--upstream', 'ftp://user:secret@host:21']);
		assert.equal(await agent.exited, 2);
		const text = agent.stderr.join('\n');
		assert.match(text, /use socks5:\/\/\[user:pass@\]host:port or http:\/\//);
		assert.doesNotMatch(text, /secret/);
	});
});
