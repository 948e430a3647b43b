import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCaFile } from '../../../extension/agent/tls-ca-file';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('readCaFile (berth.tls.caFile)', () => {
	const dir = mkdtempSync(join(tmpdir(), 'berth-ca-'));

	it("trusts Node's store when unset, and the file's CAs when set", async () => {
		assert.equal(await readCaFile(undefined), undefined);
		const file = join(dir, 'ca.pem');
		writeFileSync(file, PEM);
		assert.deepEqual(await readCaFile(file), { ca: PEM });
	});

	it('names the file and the setting when it cannot be used', async () => {
		const notPem = join(dir, 'key.txt');
		writeFileSync(notPem, 'hello');
		const big = join(dir, 'big.pem');
		writeFileSync(big, PEM + 'x'.repeat(1024 * 1024));
		const cases: [string, RegExp][] = [
			[join(dir, 'missing.pem'), /^the CA file .*missing\.pem \(berth\.tls\.caFile\) cannot be read: /],
			[notPem, /key\.txt \(berth\.tls\.caFile\) holds no PEM certificate$/],
			[big, /big\.pem \(berth\.tls\.caFile\) is larger than 1024 KiB/],
		];
		for (const [file, message] of cases) {
			await assert.rejects(readCaFile(file), (error: Error & { code?: string }) => {
				assert.equal(error.code, 'BERTH_ERR_USAGE');
				assert.match(error.message, message);
				return true;
			});
		}
	});
});
