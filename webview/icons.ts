/**
 * The panel's icons, drawn inline as 16×16 SVG in the current text colour: no font or image to
 * load, so the CSP stays `default-src 'none'` and the bundle small. Shapes follow the codicons'
 * meaning (globe, tag, close, …) in simple strokes.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

type Shape =
	| { readonly path: string; readonly fill?: boolean }
	| { readonly circle: readonly [cx: number, cy: number, r: number]; readonly fill?: boolean };

const ICONS = {
	globe: [{ circle: [8, 8, 5.5] }, { path: 'M2.5 8h11M8 2.5c-3 3-3 8 0 11M8 2.5c3 3 3 8 0 11' }],
	preview: [{ path: 'M2.5 3.5h11v9h-11zM2.5 6h11' }, { circle: [4.2, 4.75, 0.5], fill: true }],
	copy: [{ path: 'M5.5 5.5h8v8h-8zM10.5 5.5v-3h-8v8h3' }],
	tag: [{ path: 'M2.5 2.5h5.2l6 6-5.2 5.2-6-6z' }, { circle: [5.3, 5.3, 1] }],
	close: [{ path: 'M4 4l8 8M12 4l-8 8' }],
	add: [{ path: 'M8 3v10M3 8h10' }],
	warning: [{ path: 'M8 2l6.5 11.5h-13zM8 6.5v3.5' }, { circle: [8, 11.8, 0.6], fill: true }],
	error: [{ circle: [8, 8, 5.5] }, { path: 'M6 6l4 4M10 6l-4 4' }],
	'circle-filled': [{ circle: [8, 8, 3.5], fill: true }],
	'circle-outline': [{ circle: [8, 8, 3.5] }],
	'chevron-right': [{ path: 'M6 3.5l4.5 4.5L6 12.5' }],
	'chevron-down': [{ path: 'M3.5 6l4.5 4.5L12.5 6' }],
	refresh: [{ path: 'M12.8 9.5A5 5 0 1 1 11.5 4.5M11.8 1.8v3h-3' }],
	key: [{ circle: [5, 8, 2.5] }, { path: 'M7.5 8h6M11.5 8v2.5M13.5 8v2' }],
	disconnect: [
		{
			path: 'M2 14l2.5-2.5M14 2l-2.5 2.5M4.5 7l4.5 4.5-1.5 1.5a3 3 0 0 1-4.5-4.5zM11.5 9L7 4.5l1.5-1.5a3 3 0 0 1 4.5 4.5z',
		},
	],
} satisfies Record<string, readonly Shape[]>;

/** The name of an icon. */
export type IconName = keyof typeof ICONS;

/** A new SVG element of the icon, hidden from screen readers (its button or cell says what it is). */
export function icon(name: IconName): SVGSVGElement {
	const svg = document.createElementNS(SVG_NS, 'svg');
	svg.setAttribute('viewBox', '0 0 16 16');
	svg.setAttribute('width', '16');
	svg.setAttribute('height', '16');
	svg.setAttribute('aria-hidden', 'true');
	svg.setAttribute('focusable', 'false');
	svg.setAttribute('class', `icon icon-${name}`);
	for (const shape of ICONS[name] as readonly Shape[]) {
		const el =
			'path' in shape ? document.createElementNS(SVG_NS, 'path') : document.createElementNS(SVG_NS, 'circle');
		if ('path' in shape) {
			el.setAttribute('d', shape.path);
		} else {
			const [cx, cy, r] = shape.circle;
			el.setAttribute('cx', String(cx));
			el.setAttribute('cy', String(cy));
			el.setAttribute('r', String(r));
		}
		el.setAttribute('class', shape.fill ? 'fill' : 'stroke');
		svg.append(el);
	}
	return svg;
}
