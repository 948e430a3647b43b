import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { parseLoginDetails, parseSshAgentToken, Secrets } from '../../../extension/secrets';

const JWT =
	'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const FINGERPRINT = `SHA256:${'A'.repeat(42)}w`;
const AGENT = 'wss://agent.example:8765';

/** VS Code's SecretStorage, in memory (only what Secrets uses). */
function memoryStorage(): vscode.SecretStorage & { readonly values: Map<string, string> } {
	const values = new Map<string, string>();
	return {
		values,
		get: async (key: string) => values.get(key),
		store: async (key: string, value: string) => void values.set(key, value),
		delete: async (key: string) => void values.delete(key),
		onDidChange: () => ({ dispose: () => undefined }),
	} as unknown as vscode.SecretStorage & { readonly values: Map<string, string> };
}

describe('Secrets: logins of remote agents', () => {
	it('keeps a signed user token with the pin and prefix of its init URL, and forgets them at Sign Out', async () => {
		const storage = memoryStorage();
		const secrets = new Secrets(storage);
		await secrets.storeAgentLogin(AGENT, { token: JWT, agentKey: FINGERPRINT, sessionPrefix: 'alice-' });
		assert.deepEqual(await secrets.agentLogin(AGENT), {
			token: JWT,
			agentKey: FINGERPRINT,
			sessionPrefix: 'alice-',
		});
		assert.ok(secrets.knownTokens.includes(JWT), 'masked in logs');
		await secrets.deleteAgentLogin(AGENT);
		assert.equal(await secrets.agentLogin(AGENT), undefined);
		assert.equal(storage.values.size, 0, 'nothing of the login is left');
	});

	it('replaces a login whole: a token typed later has no pin', async () => {
		const secrets = new Secrets(memoryStorage());
		await secrets.storeAgentLogin(AGENT, { token: JWT, agentKey: FINGERPRINT });
		await secrets.storeAgentLogin(AGENT, { token: 'c'.repeat(32) });
		assert.deepEqual(await secrets.agentLogin(AGENT), { token: 'c'.repeat(32) });
	});

	it('refuses to store what no agent would take, and ignores it if found stored', async () => {
		const storage = memoryStorage();
		const secrets = new Secrets(storage);
		await assert.rejects(secrets.storeAgentLogin(AGENT, { token: 'not a token' }), {
			code: 'BERTH_ERR_TOKEN',
		});
		storage.values.set(`berth.agent.token:${AGENT}`, 'not a token');
		assert.equal(await secrets.agentLogin(AGENT), undefined);
	});

	it('never dials without a pin it cannot read: such a login is unusable', async () => {
		const storage = memoryStorage();
		const secrets = new Secrets(storage);
		await secrets.storeAgentLogin(AGENT, { token: JWT, agentKey: FINGERPRINT });
		storage.values.set(`berth.agent.login:${AGENT}`, '{"k":"SHA256:tampered"}');
		assert.equal(await secrets.agentLogin(AGENT), undefined);
	});
});

describe('Secrets: the local agent token', () => {
	it('is a connection token, generated once; a stored value that is not one is replaced', async () => {
		const storage = memoryStorage();
		const secrets = new Secrets(storage);
		const first = await secrets.localAgentToken();
		assert.match(first, /^[A-Za-z0-9_-]{43}$/);
		assert.equal(await secrets.localAgentToken(), first);
		storage.values.set('berth.localAgent.token', JWT);
		const replaced = await secrets.localAgentToken();
		assert.notEqual(replaced, JWT, 'the local agent takes connection tokens only');
		assert.match(replaced, /^[A-Za-z0-9_-]{43}$/);
	});
});

describe('parseLoginDetails', () => {
	it('reads what was stored, and nothing stored as no details', () => {
		assert.deepEqual(parseLoginDetails(undefined), {});
		assert.deepEqual(parseLoginDetails(`{"k":"${FINGERPRINT}","n":"bob-"}`), {
			agentKey: FINGERPRINT,
			sessionPrefix: 'bob-',
		});
		assert.deepEqual(parseLoginDetails('{"n":""}'), {});
	});

	it('refuses what it cannot read', () => {
		for (const text of ['', 'null', '[]', '{"k":7}', '{"k":"SHA256:x"}', '{"n":"a\\u0000"}']) {
			assert.equal(parseLoginDetails(text), undefined, text);
		}
	});
});

describe('Secrets: tokens of agents on ssh hosts', () => {
	const HOST = 'alice@devbox:2222|dir=.cache/berth';
	const COMMIT = 'a'.repeat(40);

	it('keeps a token with its build by host key, masks it in logs, and deletes it', async () => {
		const storage = memoryStorage();
		const secrets = new Secrets(storage);
		const tokens = secrets.sshTokens;
		assert.equal(await tokens.get(HOST), undefined);
		await tokens.set(HOST, { commit: COMMIT, token: 't'.repeat(43) });
		assert.deepEqual(await new Secrets(storage).sshTokens.get(HOST), {
			commit: COMMIT,
			token: 't'.repeat(43),
		});
		assert.ok(secrets.knownTokens.includes('t'.repeat(43)), 'masked in logs');
		await tokens.delete(HOST);
		assert.equal(await tokens.get(HOST), undefined);
		assert.equal(storage.values.size, 0);
	});

	it('reads what cannot be a token or a build as no token', () => {
		assert.deepEqual(parseSshAgentToken(JSON.stringify({ commit: COMMIT, token: 'abc_-1' })), {
			commit: COMMIT,
			token: 'abc_-1',
		});
		for (const text of [
			undefined,
			'not json',
			'[]',
			JSON.stringify({ commit: COMMIT }),
			JSON.stringify({ commit: '', token: 'abc' }),
			JSON.stringify({ commit: 'c'.repeat(129), token: 'abc' }),
			JSON.stringify({ commit: COMMIT, token: 'has space' }),
			JSON.stringify({ commit: COMMIT, token: 7 }),
		]) {
			assert.equal(parseSshAgentToken(text), undefined, String(text));
		}
	});
});
