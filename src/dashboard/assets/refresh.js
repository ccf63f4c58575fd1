// Auto-refresh island: reloads the page's `[data-refresh]` regions from the server every few seconds.
// The server renders (and escapes) them; this only swaps whole regions, keeping open <details> open.
import { useEffect, useState } from 'preact/hooks';
import { html } from './ui.js';

const INTERVALS = [2000, 5000, 15000, 60000];

async function reloadRegions() {
  const response = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  if (response.status === 401) throw new Error('signed out');
  const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
  for (const region of document.querySelectorAll('[data-refresh][id]')) {
    const fresh = doc.getElementById(region.id);
    if (!fresh) continue;
    const open = [...region.querySelectorAll('details')].map((d) => d.open);
    region.replaceChildren(...fresh.childNodes);
    region.querySelectorAll('details').forEach((d, i) => {
      if (open[i] !== undefined) d.open = open[i];
    });
  }
  document.dispatchEvent(new CustomEvent('duraflow:refreshed'));
}

/** Toggle + interval picker; also refreshes at once on a `duraflow:refresh` event (after an action). */
export function AutoRefresh({ interval = 5000, enabled = true }) {
  const [on, setOn] = useState(enabled);
  const [every, setEvery] = useState(interval);
  const [state, setState] = useState({ at: new Date(), error: '' });
  const [tick, setTick] = useState(0);

  const run = async () => {
    try {
      await reloadRegions();
      setState({ at: new Date(), error: '' });
    } catch (error) {
      setState({ at: new Date(), error: error.message });
    }
  };

  useEffect(() => {
    const onRequest = () => run().then(() => setTick((t) => t + 1));
    document.addEventListener('duraflow:refresh', onRequest);
    return () => document.removeEventListener('duraflow:refresh', onRequest);
  }, []);

  useEffect(() => {
    if (!on) return undefined;
    let stopped = false;
    const timer = setTimeout(async () => {
      if (!document.hidden) await run();
      if (!stopped) setTick((t) => t + 1);
    }, every);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [on, every, tick]);

  return html`<div class="refresh">
    <label class="check"><input type="checkbox" checked=${on} onChange=${(e) => setOn(e.currentTarget.checked)} data-auto-refresh /> Auto-refresh</label>
    <select value=${every} onChange=${(e) => setEvery(Number(e.currentTarget.value))} aria-label="Refresh interval">
      ${INTERVALS.map((ms) => html`<option value=${ms}>${ms / 1000} s</option>`)}
    </select>
    <button type="button" class="icon" title="Refresh now" onClick=${() => run()}>↻</button>
    <span class=${state.error ? 'muted error-text' : 'muted'} data-refreshed-at>${state.error ? `refresh failed: ${state.error}` : `updated ${state.at.toLocaleTimeString()}`}</span>
  </div>`;
}
