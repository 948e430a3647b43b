// The Remote Port Forwarding panel's script (its UI is built by the extension issue).
document.body.dataset['berth'] = 'ready';
