import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPermanentError } from '../../../server/client/retry';
import { tlsFailure } from '../../../server/client/tls-failure';
import { exitCodeFor, ExitCode } from '../../../server/cli/exit-codes';

const AGENT = 'wss://agent.example:8765';

/** An error as Node's TLS layer makes it: a message, and the code the mapping reads. */
function nodeError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
	return Object.assign(new Error(message), { code }, extra);
}

describe('tlsFailure', () => {
	// Node's code → words in the message, and the advice that fits.
	const rows: ReadonlyArray<readonly [code: string, words: RegExp, advice: RegExp]> = [
		[
			'SELF_SIGNED_CERT_IN_CHAIN',
			/not trusted \(self-signed certificate in chain\)/,
			/--ca-file .*--insecure/,
		],
		['DEPTH_ZERO_SELF_SIGNED_CERT', /not trusted \(self-signed certificate\)/, /--ca-file .*--insecure/],
		[
			'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
			/not trusted \(signed by a CA this client does not trust\)/,
			/pass --ca-file with the CA that signed it, or --insecure to skip the check \(not recommended\)/,
		],
		[
			'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
			/not trusted \(signed by a CA this client does not trust\)/,
			/--ca-file/,
		],
		['CERT_HAS_EXPIRED', /certificate has expired/, /renew the agent's certificate.*clock/],
		['CERT_NOT_YET_VALID', /not valid yet/, /clocks/],
		['CERT_REVOKED', /not acceptable \(revoked\)/, /another certificate/],
		['INVALID_PURPOSE', /not acceptable \(not meant for TLS servers\)/, /another certificate/],
	];
	for (const [code, words, advice] of rows) {
		it(`says what ${code} means and what to do, as a permanent refusal (exit 3)`, () => {
			const error = tlsFailure(nodeError(code, 'openssl words'), AGENT);
			assert.ok(error, code);
			assert.equal(error.code, 'BERTH_ERR_TLS_UNTRUSTED');
			assert.ok(error.message.startsWith(`${AGENT}: the agent's certificate `), error.message);
			assert.match(error.message, words);
			assert.match(error.message, advice);
			assert.ok(!error.message.includes('\n'), 'one line');
			assert.equal(isPermanentError(error), true, 'retrying meets the same certificate');
			assert.equal(exitCodeFor(error), ExitCode.Refused);
			assert.equal((error.cause as { code: string }).code, code, "Node's error stays as the cause");
		});
	}

	it('names the host and the names the certificate lists when they do not match', () => {
		const error = tlsFailure(
			nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", {
				host: '127.0.0.1',
				cert: { subjectaltname: 'DNS:localhost' },
			}),
			AGENT,
		);
		assert.equal(error?.code, 'BERTH_ERR_TLS_UNTRUSTED');
		assert.match(
			error.message,
			/certificate is not valid for 127\.0\.0\.1 \(it lists DNS:localhost\): connect by a name the certificate lists/,
		);
	});

	it('tells an agent that does not speak TLS from a certificate problem: a connect error, retried', () => {
		for (const code of ['ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO']) {
			const error = tlsFailure(nodeError(code, 'wrong version number'), AGENT);
			assert.equal(error?.code, 'BERTH_ERR_CONNECT', code);
			assert.match(error.message, /did not complete a TLS handshake .*without --tls-cert .*ws:\/\//);
			assert.equal(isPermanentError(error), false);
		}
	});

	it('leaves other errors alone', () => {
		assert.equal(tlsFailure(nodeError('ECONNREFUSED', 'connect ECONNREFUSED'), AGENT), undefined);
		assert.equal(tlsFailure(new Error('no code'), AGENT), undefined);
		assert.equal(tlsFailure(undefined, AGENT), undefined);
		assert.equal(tlsFailure('a string', AGENT), undefined);
	});
});
