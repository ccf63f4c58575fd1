// Mounts the preact islands: every `[data-island]` element gets the named component, with the JSON of its
// `data-props` attribute (written by the server through its escaping template) as props.
import { h, render } from 'preact';
import { AutoRefresh } from './refresh.js';
import { InstanceActions } from './instance-actions.js';
import { StartInstance } from './start-instance.js';
import { PurgeFilter } from './purge-filter.js';
import { SignalEntity } from './signal-entity.js';
import { ScheduleActions } from './schedule-actions.js';
import { localizeTimes } from './local-time.js';

const ISLANDS = {
  refresh: AutoRefresh,
  'instance-actions': InstanceActions,
  'start-instance': StartInstance,
  'purge-filter': PurgeFilter,
  'signal-entity': SignalEntity,
  'schedule-actions': ScheduleActions,
};

/** Mounts every island not mounted yet: at load, and in regions an auto-refresh swapped in (schedule rows). */
function mountIslands() {
  for (const element of document.querySelectorAll('[data-island]:not([data-mounted])')) {
    const component = ISLANDS[element.getAttribute('data-island')];
    if (!component) continue;
    let props = {};
    try {
      props = JSON.parse(element.getAttribute('data-props') || '{}');
    } catch {
      // keep the defaults
    }
    element.setAttribute('data-mounted', '');
    render(h(component, props), element);
  }
}

mountIslands();
localizeTimes();
document.addEventListener('duraflow:refreshed', () => {
  mountIslands();
  localizeTimes();
});
document.documentElement.dataset.islands = 'ready';
