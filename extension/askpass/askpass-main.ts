/**
 * The ssh askpass helper (dist/askpass.js, its own bundle: no vscode here). ssh runs it, through
 * the askpass.sh launcher the extension writes, with the prompt as its one argument whenever it
 * needs the user (a host key to confirm, a passphrase). It hands the prompt to the extension over
 * the extension's unix socket (protocol/askpass.ts), which asks in an input box, and prints the
 * answer on stdout for ssh. Exit status 0: answered (or confirmed); 1: cancelled or failed, which
 * ssh takes as "no answer".
 */

import { connect } from 'node:net';
import {
	ASKPASS_ENV,
	MAX_ASKPASS_LINE_BYTES,
	askpassModeOf,
	formatAskpassMessage,
	parseAskpassReply,
	type AskpassReply,
} from '../../protocol/askpass';

const EXIT_ANSWERED = 0;
const EXIT_CANCELLED = 1;

function main(): void {
	const socketPath = process.env[ASKPASS_ENV.socket];
	const ticket = process.env[ASKPASS_ENV.ticket];
	if (!socketPath || !ticket) {
		fail(`${ASKPASS_ENV.socket} and ${ASKPASS_ENV.ticket} are not set: only Berth's ssh runs this`);
		return;
	}
	const request = formatAskpassMessage({
		type: 'ask',
		ticket,
		prompt: process.argv[2] ?? '',
		mode: askpassModeOf(process.env['SSH_ASKPASS_PROMPT']),
	});
	const socket = connect(socketPath);
	let received = '';
	let done = false;
	socket.setEncoding('utf8');
	socket.on('connect', () => socket.write(request));
	socket.on('data', (chunk: string) => {
		received += chunk;
		const end = received.indexOf('\n');
		if (end < 0 && received.length <= MAX_ASKPASS_LINE_BYTES) {
			return;
		}
		done = true;
		socket.destroy();
		answer(end < 0 ? undefined : parseAskpassReply(received.slice(0, end)));
	});
	socket.on('error', (error) => {
		if (!done) {
			done = true;
			fail(`cannot reach VS Code: ${error.message}`);
		}
	});
	socket.on('close', () => {
		if (!done) {
			done = true;
			fail('VS Code closed the question without an answer');
		}
	});
}

function answer(reply: AskpassReply | undefined): void {
	if (reply === undefined) {
		fail('VS Code sent an answer that is not one');
	} else if (reply.type === 'cancel') {
		process.exitCode = EXIT_CANCELLED;
	} else {
		process.stdout.write(reply.value + '\n');
		process.exitCode = EXIT_ANSWERED;
	}
}

/** ssh shows the helper's stderr to no one in VS Code but its log (berth.ssh's stderr lines). */
function fail(why: string): void {
	process.stderr.write(`berth askpass: ${why}\n`);
	process.exitCode = EXIT_CANCELLED;
}

// The one place with work at load time: dist/askpass.js is this file, bundled, and ssh runs it.
main();
