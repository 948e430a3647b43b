/** Resolves with the name of the first SIGINT or SIGTERM; a second one exits at once. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
	return new Promise((resolve) => {
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
