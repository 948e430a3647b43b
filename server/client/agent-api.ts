import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BerthError } from '../../protocol/errors';
import { hostHeader, type AgentAddress } from './agent-url';
import { requestFailure } from './request-failure';
import { tlsConnectOptions, type TlsTrust } from './tls-trust';

/** Longest API answer read (a token list of thousands of rows). */
const MAX_API_ANSWER_BYTES = 8 * 1024 * 1024;
/** Time for one API call, answer included. */
const API_CALL_TIMEOUT_MS = 15_000;

/** An agent API answer: its status and its JSON body (an empty object when there was none). */
export interface ApiAnswer {
	readonly status: number;
	readonly body: Record<string, unknown>;
}

/**
 * Calls the agent's HTTP API (`/api/...`, `/auth/device/...`) with `Authorization: Bearer <token>`
 * when there is one; a token goes in the header only, never in the URL.
 * @throws BerthError BERTH_ERR_CONNECT (unreachable, no answer in time, not JSON, too long),
 *   BERTH_ERR_TLS_UNTRUSTED.
 */
export function callAgentApi(
	address: AgentAddress,
	token: string | undefined,
	method: 'GET' | 'POST' | 'DELETE',
	path: string,
	body?: unknown,
	tls?: TlsTrust,
): Promise<ApiAnswer> {
	const request = address.secure ? httpsRequest : httpRequest;
	const payload = body === undefined ? undefined : JSON.stringify(body);
	return new Promise((resolve, reject) => {
		const req = request(
			{
				host: address.host,
				port: address.port,
				method,
				path: `${address.path.replace(/\/$/, '')}${path}`,
				headers: {
					Host: hostHeader(address),
					...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
					...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}),
				},
				timeout: API_CALL_TIMEOUT_MS,
				...(address.secure ? tlsConnectOptions(address.host, tls) : {}),
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => {
					text += chunk;
					if (text.length > MAX_API_ANSWER_BYTES) {
						req.destroy(new Error(`an answer over ${MAX_API_ANSWER_BYTES} bytes`));
					}
				});
				res.on('end', () => {
					try {
						const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
						resolve({ status: res.statusCode ?? 0, body: parsed as Record<string, unknown> });
					} catch {
						reject(
							new BerthError(
								'BERTH_ERR_CONNECT',
								`${method} ${path} on ${address.display} answered ${res.statusCode} without JSON: is it a Berth agent?`,
							),
						);
					}
				});
			},
		);
		req.on('timeout', () => req.destroy(new Error(`no answer within ${API_CALL_TIMEOUT_MS} ms`)));
		req.on('error', (error) => reject(requestFailure(error, address.display)));
		req.end(payload);
	});
}
