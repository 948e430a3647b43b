import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BerthError } from '../../../protocol/errors';
import { BERTH_COMMIT } from '../../shared/version';

/** The agent `berth ssh` installs on a host: this build's one-file bundle, dist/server.js. */
export interface AgentBundle {
	readonly path: string;
	readonly bytes: Buffer;
	readonly sha256: string;
	/** The build's commit: the host keeps it as `server-<commit>.js`, and runs only that one for this client. */
	readonly commit: string;
}

/**
 * Reads the bundle at `path` (the CLI's own file; the extension's dist/server.js). Its commit is
 * this build's: the library and the bundle are built together.
 * @throws BerthError BERTH_ERR_USAGE when it cannot be read.
 */
export function readAgentBundle(path: string): AgentBundle {
	let bytes: Buffer;
	try {
		bytes = readFileSync(path);
	} catch (error) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`cannot read the agent to install (${path}): ${(error as NodeJS.ErrnoException).code ?? String(error)}; rebuild Berth (npm run build)`,
			undefined,
			{ cause: error },
		);
	}
	return { path, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), commit: BERTH_COMMIT };
}
