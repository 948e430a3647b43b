import { main } from './main';

// The one place with work at load time: dist/server.js is this file, bundled.
void main(process.argv.slice(2)).then((code) => {
	process.exitCode = code;
	// Listeners, timers and sockets are all disposed by the commands; exiting here also covers a
	// library that forgot one, so `berth` never hangs after it said it was done.
	setImmediate(() => process.exit(code));
});
