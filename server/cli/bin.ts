import { setFlagsFromString } from 'node:v8';
import { main } from './main';

// The one place with work at load time: dist/server.js is this file, bundled.

// Keep V8's young generation at its initial size. By default it doubles (up to 16 MiB per
// semi-space) under allocation pressure, such as thousands of connections opening at once, and
// that memory is never returned: ~3 KiB of RSS per connection in the 10,000-connection benchmark,
// for no measurable throughput gain (bench/RESULTS.md). The flag is read each time the young
// generation would grow, so setting it here, before any load, takes effect. It applies to this
// process only: the CLI and the agent, never VS Code's extension host (which forks the agent).
setFlagsFromString('--semi-space-growth-factor=1');

// Optimize hot functions after 4 KiB of bytecode has run in them instead of V8's 66 KiB. A fresh
// `berth forward` or agent otherwise spends its first thousands of connections and messages in the
// interpreter and baseline code: in the bench's setup case (1,000 warm-up connections, then 1,000
// timed, on fresh processes) that was ~30 % of the median and ~20 % of the CPU per connection
// (bench/README.md, "What limits connection setup and ping-pong p99"). 1-8 KiB measured the same;
// startup, throughput and memory did not move. V8 reads the budget when it counts a function's
// calls, so setting it here, before anything runs, takes effect (unlike the young generation's
// size, which V8 fixes when the process starts).
setFlagsFromString('--interrupt-budget=4096');

void main(process.argv.slice(2)).then((code) => {
	process.exitCode = code;
	// Listeners, timers and sockets are all disposed by the commands; exiting here also covers a
	// library that forgot one, so `berth` never hangs after it said it was done.
	setImmediate(() => process.exit(code));
});
