// "Start instance": pick an orchestration, optionally an instance id, type the JSON input, confirm.
import { useState } from 'preact/hooks';
import { ActionDialog, html, instanceUrl, post } from './ui.js';

export function StartInstance({ names = [] }) {
  const [open, setOpen] = useState(false);
  const nameField = names.length
    ? { name: 'name', label: 'Orchestration', kind: 'select', options: names, required: true }
    : { name: 'name', label: 'Orchestration name', kind: 'text', required: true };
  return html`<span>
    <button type="button" class="primary" data-action="start" onClick=${() => setOpen(true)}>Start instance…</button>
    ${open
      ? html`<${ActionDialog}
          title="Start a new instance"
          fields=${[
            nameField,
            { name: 'instanceId', label: 'Instance id (optional)', kind: 'text', placeholder: 'a random id when empty' },
            { name: 'input', label: 'Input (JSON)', kind: 'json' },
          ]}
          confirmLabel="Start"
          onConfirm=${async (v) => {
            const { instanceId } = await post('/dashboard/api/start', { name: v.name, instanceId: v.instanceId, input: v.input });
            location.assign(instanceUrl(instanceId));
          }}
          onClose=${() => setOpen(false)} />`
      : null}
  </span>`;
}
