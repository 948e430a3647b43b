import type { IncomingMessage } from 'node:http';
import type { Timers } from '../../../protocol/timers';
import { readBody } from '../json-api';

/**
 * A request body as fields: an HTML form's (`application/x-www-form-urlencoded`), or, for the
 * device endpoints, a JSON object of strings. Bounded by readBody (16 KiB, 10 s). Undefined when
 * the body is neither: the caller answers 400.
 */
export async function readFields(req: IncomingMessage, timers: Timers): Promise<URLSearchParams | undefined> {
	const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
	let text: string;
	try {
		text = await readBody(req, timers);
	} catch {
		return undefined;
	}
	if (type === 'application/x-www-form-urlencoded') {
		return new URLSearchParams(text);
	}
	if (type === 'application/json' || (type === '' && text.trim().startsWith('{'))) {
		return jsonFields(text);
	}
	return undefined;
}

/** A JSON object's string members as fields; anything else (not an object, bad JSON) is undefined. */
function jsonFields(text: string): URLSearchParams | undefined {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return undefined;
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return undefined;
	}
	const fields = new URLSearchParams();
	for (const [key, member] of Object.entries(value)) {
		if (typeof member === 'string') {
			fields.set(key, member);
		}
	}
	return fields;
}
