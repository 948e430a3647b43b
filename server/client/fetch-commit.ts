import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BerthError } from '../../protocol/errors';
import { hostHeader, type AgentAddress } from './agent-url';
import { requestFailure } from './request-failure';
import { tlsConnectOptions, type TlsTrust } from './tls-trust';

/** Longest /version answer read. */
const MAX_VERSION_BYTES = 1024;

/**
 * The commit a server reports at `GET /version` (no token needed), as VS Code's client reads it.
 * An `https://`/`wss://` server's certificate is checked as `tls` says.
 * @throws BerthError BERTH_ERR_CONNECT, BERTH_ERR_TLS_UNTRUSTED.
 */
export function fetchAgentCommit(address: AgentAddress, timeoutMs = 10_000, tls?: TlsTrust): Promise<string> {
	const request = address.secure ? httpsRequest : httpRequest;
	return new Promise((resolve, reject) => {
		const req = request(
			{
				host: address.host,
				port: address.port,
				path: `${address.path.replace(/\/$/, '')}/version`,
				headers: { Host: hostHeader(address) },
				timeout: timeoutMs,
				...(address.secure ? tlsConnectOptions(address.host, tls) : {}),
			},
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => {
					body += chunk;
					if (body.length > MAX_VERSION_BYTES) {
						req.destroy();
					}
				});
				res.on('end', () => {
					if (res.statusCode !== 200) {
						reject(
							new BerthError(
								'BERTH_ERR_CONNECT',
								`GET /version on ${address.display} answered ${res.statusCode}`,
							),
						);
						return;
					}
					resolve(body.trim());
				});
			},
		);
		req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
		req.on('error', (error) => reject(requestFailure(error, address.display)));
		req.end();
	});
}
