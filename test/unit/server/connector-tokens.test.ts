import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { ConnectorTokens, MAX_CONNECTOR_TOKENS } from '../../../server/connector-tokens';
import { sign } from '../../../server/shared/sign';

const TOKEN = 'connector-token-0001';
const OTHER = 'connector_token_0002';
const CHALLENGE = 'a fresh challenge';

function isTokenError(error: unknown): boolean {
	return error instanceof BerthError && error.code === 'BERTH_ERR_TOKEN';
}

describe('ConnectorTokens', () => {
	it('adds tokens of letters, digits, - and _ with at least 16 characters, each under its own id', () => {
		const tokens = new ConnectorTokens();
		const first = tokens.add(TOKEN, 'the token');
		const second = tokens.add('A'.repeat(16), 'the token');
		assert.notEqual(first, second);
		assert.equal(tokens.size, 2);
		assert.deepEqual(tokens.ids().sort(), [first, second].sort());
		assert.ok(tokens.has(first));
		assert.ok(tokens.includes(TOKEN));
		assert.ok(!tokens.includes(OTHER));
		assert.ok(!first.includes(TOKEN), 'the id is not the token');
	});

	it('refuses tokens that break the rules, saying whose', () => {
		const tokens = new ConnectorTokens();
		for (const bad of ['', 'A'.repeat(15), 'has space in it 0123', 'dots.are.not.allowed', 'é'.repeat(20)]) {
			assert.throws(
				() => tokens.add(bad, 'the token in the body'),
				(error: unknown) => isTokenError(error) && /the token in the body/.test((error as Error).message),
				JSON.stringify(bad),
			);
		}
		assert.equal(tokens.size, 0);
	});

	it('refuses a token it holds already', () => {
		const tokens = new ConnectorTokens();
		tokens.add(TOKEN, 'the token');
		assert.throws(() => tokens.add(TOKEN, 'the token'), isTokenError);
		assert.equal(tokens.size, 1);
	});

	it(`holds at most ${MAX_CONNECTOR_TOKENS} tokens, and takes one again after a removal`, () => {
		const tokens = new ConnectorTokens();
		const ids: string[] = [];
		for (let i = 0; i < MAX_CONNECTOR_TOKENS; i++) {
			ids.push(tokens.add(`connector-token-${String(i).padStart(6, '0')}`, 'the token'));
		}
		assert.throws(
			() => tokens.add('one-too-many-tokens', 'the token'),
			(error: unknown) => isTokenError(error) && /remove one first/.test((error as Error).message),
		);
		assert.equal(tokens.size, MAX_CONNECTOR_TOKENS);
		tokens.remove(ids[0]!);
		tokens.add('one-too-many-tokens', 'the token');
		assert.equal(tokens.size, MAX_CONNECTOR_TOKENS);
	});

	it('removes a token by id and fires onDidRemove with it', () => {
		const tokens = new ConnectorTokens();
		const id = tokens.add(TOKEN, 'the token');
		const kept = tokens.add(OTHER, 'the token');
		const removed: string[] = [];
		tokens.onDidRemove((gone) => removed.push(gone));
		assert.equal(tokens.remove(id), true);
		assert.deepEqual(removed, [id]);
		assert.ok(!tokens.has(id));
		assert.ok(!tokens.includes(TOKEN));
		assert.deepEqual(tokens.ids(), [kept]);
		assert.equal(tokens.remove(id), false, 'a second removal finds nothing');
		assert.equal(tokens.remove('no-such-id'), false);
		assert.deepEqual(removed, [id], 'nothing fires for what was not there');
	});

	it('matches the token whose signature of the challenge is given', () => {
		const tokens = new ConnectorTokens();
		tokens.add(TOKEN, 'the token');
		const otherId = tokens.add(OTHER, 'the token');
		assert.deepEqual(tokens.match(CHALLENGE, sign(OTHER, CHALLENGE)), { id: otherId, value: OTHER });
	});

	it('matches nothing for a wrong signature, another challenge’s, or a removed token’s', () => {
		const tokens = new ConnectorTokens();
		const id = tokens.add(TOKEN, 'the token');
		assert.equal(tokens.match(CHALLENGE, sign('not-a-connector-token', CHALLENGE)), undefined);
		assert.equal(tokens.match(CHALLENGE, sign(TOKEN, 'another challenge')), undefined);
		assert.equal(tokens.match(CHALLENGE, TOKEN), undefined, 'the token itself is no signature');
		assert.equal(tokens.match(CHALLENGE, ''), undefined);
		assert.ok(tokens.match(CHALLENGE, sign(TOKEN, CHALLENGE)), 'the right signature matches');
		tokens.remove(id);
		assert.equal(tokens.match(CHALLENGE, sign(TOKEN, CHALLENGE)), undefined);
	});
});
