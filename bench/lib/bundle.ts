import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A copy of the bundle just built (REPO/dist/server.js, and its map), which every Berth process
 * of a run starts from: other engineers may rebuild dist/ meanwhile, and a whole run must
 * measure the same code. Returns the copy's path.
 */
export function snapshotBerth(repo: string, workDir: string): string {
	const dir = join(workDir, 'berth');
	mkdirSync(dir);
	const file = join(dir, 'berth.js');
	copyFileSync(join(repo, 'dist', 'server.js'), file);
	if (existsSync(join(repo, 'dist', 'server.js.map'))) {
		copyFileSync(join(repo, 'dist', 'server.js.map'), join(dir, 'server.js.map'));
	}
	return file;
}
