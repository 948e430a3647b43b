import type { Logger } from '../shared/log';
import { parseUpstreamUrl, type Upstream } from '../shared/upstream';

/** `--upstream URL`, with a warning when it carries a password (argv is public on the host). */
export function readUpstream(text: string, log: Logger): Upstream {
	const upstream = parseUpstreamUrl(text);
	if (upstream.password !== undefined) {
		log.warn(
			'--upstream carries a password in the process list, where every user of this host can read it: ' +
				'prefer an upstream that needs none on a loopback or private address',
		);
	}
	return upstream;
}
