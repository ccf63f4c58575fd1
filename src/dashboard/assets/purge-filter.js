// "Purge by filter": deletes the finished instances the list shows for its current filters.
import { useState } from 'preact/hooks';
import { ActionDialog, html, post, requestRefresh, toast } from './ui.js';

function describe(filter) {
  const parts = [];
  if (filter.statuses?.length) parts.push(`status ${filter.statuses.join(' or ')}`);
  if (filter.name) parts.push(`name containing '${filter.name}'`);
  if (filter.prefix) parts.push(`id starting with '${filter.prefix}'`);
  if (filter.version) parts.push(`version ${filter.version}`);
  for (const [key, value] of Object.entries(filter.tags ?? {})) parts.push(`tag ${key}=${value}`);
  if (filter.from) parts.push(`created from ${filter.from}`);
  if (filter.to) parts.push(`created until ${filter.to}`);
  return parts.length ? parts.join(', ') : 'no filter: every finished instance';
}

export function PurgeFilter({ filter }) {
  const [open, setOpen] = useState(false);
  return html`<span>
    <button type="button" class="danger-outline" data-action="purge-filter" onClick=${() => setOpen(true)}>Purge finished instances matching these filters…</button>
    ${open
      ? html`<${ActionDialog}
          title="Purge instances?"
          description=${`Deletes every Completed, Failed, Terminated or Canceled instance matching ${describe(filter)}, with its history. Running instances are kept. This cannot be undone.`}
          confirmLabel="Purge" danger=${true}
          onConfirm=${async () => {
            const { instancesDeleted } = await post('/dashboard/api/purge', { filter });
            toast(`${instancesDeleted} instance${instancesDeleted === 1 ? '' : 's'} purged.`);
            requestRefresh();
          }}
          onClose=${() => setOpen(false)} />`
      : null}
  </span>`;
}
