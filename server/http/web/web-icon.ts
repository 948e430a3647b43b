/**
 * The web pages' icon (the tab's and the bar's), served as /berth.svg: Berth's icon (media/icon.png)
 * drawn in SVG, so the CSP's `img-src 'self'` covers it and browsers ask for no /favicon.ico.
 */
export const WEB_ICON_PATH = '/berth.svg';

export const WEB_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128">
<rect x="4" y="4" width="120" height="120" rx="18" fill="#17609e"/>
<rect x="20" y="40" width="60" height="16" rx="8" fill="#8ec8f0"/>
<path d="M74 26 108 48 74 70Z" fill="#fff"/>
<rect x="18" y="80" width="92" height="18" rx="5" fill="#fff"/>
<rect x="30" y="96" width="12" height="10" rx="3" fill="#fff"/>
<rect x="58" y="96" width="12" height="10" rx="3" fill="#fff"/>
<rect x="86" y="96" width="12" height="10" rx="3" fill="#fff"/>
</svg>
`;
