import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ListeningPort } from '../../../protocol/rpc';
import type { ListeningPortScanner } from '../../../server/forward/listening-ports';
import { PortWatcher, type PortsChange } from '../../../server/forward/port-watcher';
import { createNullLogger } from '../../../server/shared/log';
import { ensureNoLeaks } from '../../helpers/leaks';
import { waitFor } from '../../helpers/wait';

describe('PortWatcher', () => {
	const leaks = ensureNoLeaks();

	it('leaves excluded ports out of answers and changes, and reports a port excluded later as removed', async () => {
		const timers = leaks.timers();
		let listening: ListeningPort[] = [{ host: '127.0.0.1', port: 3000 }];
		const scanner = { scan: () => Promise.resolve(listening) } as unknown as ListeningPortScanner;
		const excluded = new Set<number>([40677]);
		const watcher = new PortWatcher(scanner, timers, createNullLogger(), (p) => excluded.has(p.port));
		const changes: PortsChange[] = [];
		const subscription = watcher.subscribe((change) => changes.push(change));
		timers.advance(0);
		await waitFor(() => timers.pending > 0, 'the first scan');
		listening = [...listening, { host: '127.0.0.1', port: 40677 }, { host: '127.0.0.1', port: 40678 }];
		assert.deepEqual(
			(await watcher.current()).map((p) => p.port),
			[3000, 40678],
		);
		timers.advance(2_000);
		await waitFor(() => changes.length > 0, 'a change');
		assert.deepEqual(changes, [{ added: [{ host: '127.0.0.1', port: 40678 }], removed: [] }]);
		excluded.add(40678);
		watcher.refilter();
		assert.deepEqual(changes[1], { added: [], removed: [{ host: '127.0.0.1', port: 40678 }] });
		excluded.clear();
		watcher.refilter();
		assert.deepEqual(
			changes[2]?.added.map((p) => p.port),
			[40677, 40678],
		);
		subscription.dispose();
		watcher.dispose();
	});
});
