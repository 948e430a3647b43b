/**
 * Resolves with the name of the first SIGINT or SIGTERM; a second one exits at once. A process
 * forked with an IPC channel (the VS Code extension's agent) also stops when that channel closes,
 * so the agent never outlives the editor that started it, even one that was killed.
 */
export function waitForStopSignal(): Promise<NodeJS.Signals | 'parent-exit'> {
	return new Promise((resolve) => {
		if (process.send !== undefined) {
			process.once('disconnect', () => resolve('parent-exit'));
		}
		let received = false;
		const onSignal = (signal: NodeJS.Signals): void => {
			if (received) {
				process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
			}
			received = true;
			resolve(signal);
		};
		process.on('SIGINT', onSignal);
		process.on('SIGTERM', onSignal);
	});
}
