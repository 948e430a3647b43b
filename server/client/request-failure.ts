import { BerthError } from '../../protocol/errors';
import { tlsFailure } from './tls-failure';

/**
 * What a failed HTTP request to the agent becomes: a TLS refusal in words (permanent), or
 * BERTH_ERR_CONNECT naming the agent. `GET /version` and the agent API share it.
 */
export function requestFailure(error: Error, agent: string): BerthError {
	return (
		tlsFailure(error, agent) ??
		new BerthError('BERTH_ERR_CONNECT', `cannot reach ${agent}: ${error.message}`, undefined, {
			cause: error,
		})
	);
}
