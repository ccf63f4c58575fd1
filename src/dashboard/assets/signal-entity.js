// "Signal entity": send a one-way operation to an entity.
import { useState } from 'preact/hooks';
import { ActionDialog, html, post, requestRefresh, toast } from './ui.js';

export function SignalEntity({ names = [], name = '', key = '', fixed = false }) {
  const [open, setOpen] = useState(false);
  const fields = fixed
    ? []
    : [
        { name: 'name', label: 'Entity name', kind: 'text', required: true, options: names, value: name },
        { name: 'key', label: 'Key', kind: 'text', value: key },
      ];
  fields.push({ name: 'operation', label: 'Operation', kind: 'text', required: true, placeholder: 'e.g. add' });
  fields.push({ name: 'input', label: 'Input (JSON)', kind: 'json' });
  return html`<span>
    <button type="button" class="primary" data-action="signal" onClick=${() => setOpen(true)}>Signal…</button>
    ${open
      ? html`<${ActionDialog}
          title=${fixed ? `Signal ${name} ${key}` : 'Signal an entity'}
          description="Sends a one-way operation; the entity runs it in arrival order."
          fields=${fields}
          confirmLabel="Send signal"
          onConfirm=${async (v) => {
            const target = fixed ? { name, key } : { name: v.name, key: v.key ?? '' };
            await post('/dashboard/api/entities/signal', { ...target, operation: v.operation, input: v.input });
            toast(`Signal '${v.operation}' sent.`);
            requestRefresh();
          }}
          onClose=${() => setOpen(false)} />`
      : null}
  </span>`;
}
