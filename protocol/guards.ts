/** Guards for untrusted values: every inbound JSON value is narrowed through these. */

export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isString(value: unknown): value is string {
	return typeof value === 'string';
}

export function isBoolean(value: unknown): value is boolean {
	return typeof value === 'boolean';
}

/** A finite integer within [min, max]. */
export function isInteger(
	value: unknown,
	min = Number.MIN_SAFE_INTEGER,
	max = Number.MAX_SAFE_INTEGER,
): value is number {
	return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** A TCP port number, 1 to 65535 (0 = "pick one" is allowed only where `allowZero`). */
export function isPort(value: unknown, allowZero = false): value is number {
	return isInteger(value, allowZero ? 0 : 1, 65535);
}

export function isArray(value: unknown): value is readonly unknown[] {
	return Array.isArray(value);
}
