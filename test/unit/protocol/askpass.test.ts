import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	MAX_ASKPASS_ANSWER_CHARS,
	MAX_ASKPASS_LINE_BYTES,
	MAX_ASKPASS_PROMPT_CHARS,
	askpassModeOf,
	formatAskpassMessage,
	isAskpassAnswer,
	parseAskpassReply,
	parseAskpassRequest,
} from '../../../protocol/askpass';

const TICKET = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
const PASSPHRASE_PROMPT = "Enter passphrase for key '/home/alice/.ssh/id_ed25519': ";

describe('askpass dialogue', () => {
	it('reads back the request the helper formats, prompt and mode as sent', () => {
		const line = formatAskpassMessage({
			type: 'ask',
			ticket: TICKET,
			prompt: PASSPHRASE_PROMPT,
			mode: 'input',
		});
		assert.ok(line.endsWith('\n'));
		assert.equal(line.indexOf('\n'), line.length - 1, 'one line, even for a prompt with newlines');
		assert.deepEqual(parseAskpassRequest(line.trimEnd()), {
			type: 'ask',
			ticket: TICKET,
			prompt: PASSPHRASE_PROMPT,
			mode: 'input',
		});
		const multiline = "The authenticity of host 'devbox' can't be established.\nAre you sure (yes/no)? ";
		const request = { type: 'ask', ticket: TICKET, prompt: multiline, mode: 'confirm' } as const;
		assert.deepEqual(parseAskpassRequest(formatAskpassMessage(request).trimEnd()), request);
	});

	it('refuses requests that are not one: another type, a bad ticket, a long prompt, an unknown mode', () => {
		const good = { type: 'ask', ticket: TICKET, prompt: 'Password: ', mode: 'input' };
		const rows: [string, unknown][] = [
			['not JSON', '{"type":'],
			['an array', []],
			['another type', { ...good, type: 'answer' }],
			['no ticket', { ...good, ticket: undefined }],
			['a short ticket', { ...good, ticket: 'abc' }],
			['a ticket with other characters', { ...good, ticket: `${TICKET}/..` }],
			['a prompt that is not text', { ...good, prompt: 7 }],
			['a prompt too long', { ...good, prompt: 'x'.repeat(MAX_ASKPASS_PROMPT_CHARS + 1) }],
			['an unknown mode', { ...good, mode: 'yes' }],
		];
		for (const [what, value] of rows) {
			const line = typeof value === 'string' ? value : JSON.stringify(value);
			assert.equal(parseAskpassRequest(line), undefined, what);
		}
		assert.equal(parseAskpassRequest(' '.repeat(MAX_ASKPASS_LINE_BYTES + 1)), undefined, 'an overlong line');
		assert.ok(parseAskpassRequest(JSON.stringify(good)), 'the good one passes');
	});

	it('reads answers and cancels, and refuses an answer ssh could not read as one line', () => {
		assert.deepEqual(parseAskpassReply(formatAskpassMessage({ type: 'answer', value: 'yes' }).trimEnd()), {
			type: 'answer',
			value: 'yes',
		});
		assert.deepEqual(parseAskpassReply('{"type":"answer","value":""}'), { type: 'answer', value: '' });
		assert.deepEqual(parseAskpassReply('{"type":"cancel"}'), { type: 'cancel' });
		for (const value of ['two\nlines', 'cr\r', 'nul\0', 'x'.repeat(MAX_ASKPASS_ANSWER_CHARS + 1), 5]) {
			assert.equal(parseAskpassReply(JSON.stringify({ type: 'answer', value })), undefined, String(value));
		}
		assert.equal(parseAskpassReply('{"type":"ask"}'), undefined);
		assert.equal(parseAskpassReply('yes'), undefined);
		assert.equal(isAskpassAnswer('correct horse battery staple'), true);
	});

	it("takes ssh's SSH_ASKPASS_PROMPT as the mode", () => {
		assert.equal(askpassModeOf(undefined), 'input');
		assert.equal(askpassModeOf(''), 'input');
		assert.equal(askpassModeOf('confirm'), 'confirm');
		assert.equal(askpassModeOf('none'), 'notify');
		assert.equal(askpassModeOf('something newer'), 'input');
	});
});
