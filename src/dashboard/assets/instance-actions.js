// Actions on one instance (raise event, suspend, resume, terminate, rewind, restart, purge), each confirmed
// in a dialog. The buttons follow the instance's status, which is re-read after every refresh.
import { useEffect, useState } from 'preact/hooks';
import { ActionDialog, html, instanceAction, instanceUrl, requestRefresh, toast } from './ui.js';

const TERMINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

function currentStatus(fallback) {
  return document.querySelector('#instance-status [data-status]')?.getAttribute('data-status') ?? fallback;
}

const reasonField = { name: 'reason', label: 'Reason (optional)', kind: 'text', placeholder: 'why — recorded in the history' };

export function InstanceActions({ instanceId, name, status: initial }) {
  const [status, setStatus] = useState(initial);
  const [open, setOpen] = useState(null);
  useEffect(() => {
    const onRefreshed = () => setStatus(currentStatus(initial));
    document.addEventListener('duraflow:refreshed', onRefreshed);
    return () => document.removeEventListener('duraflow:refreshed', onRefreshed);
  }, []);

  const terminal = TERMINAL.includes(status);
  const done = (message) => {
    toast(message);
    requestRefresh();
  };
  const actions = [
    {
      id: 'raise', label: 'Raise event', enabled: !terminal,
      dialog: {
        title: 'Raise an event',
        description: `Sends an external event to ${instanceId}; a waitForExternalEvent with this name receives the data.`,
        fields: [
          { name: 'eventName', label: 'Event name', kind: 'text', required: true, placeholder: 'e.g. Approval' },
          { name: 'data', label: 'Event data (JSON)', kind: 'json' },
        ],
        confirmLabel: 'Raise event',
        onConfirm: async (v) => {
          await instanceAction(instanceId, 'raise', { eventName: v.eventName, data: v.data });
          done(`Event '${v.eventName}' raised.`);
        },
      },
    },
    {
      id: 'suspend', label: 'Suspend', enabled: status === 'Running' || status === 'Pending',
      dialog: {
        title: 'Suspend this instance?', description: 'A suspended instance processes no events until it is resumed.',
        fields: [reasonField], confirmLabel: 'Suspend',
        onConfirm: async (v) => { await instanceAction(instanceId, 'suspend', { reason: v.reason }); done('Suspend requested.'); },
      },
    },
    {
      id: 'resume', label: 'Resume', enabled: status === 'Suspended',
      dialog: {
        title: 'Resume this instance?', fields: [reasonField], confirmLabel: 'Resume',
        onConfirm: async (v) => { await instanceAction(instanceId, 'resume', { reason: v.reason }); done('Resume requested.'); },
      },
    },
    {
      id: 'terminate', label: 'Terminate', enabled: !terminal, danger: true,
      dialog: {
        title: 'Terminate this instance?', description: `${name} ${instanceId} stops for good; running activities finish but their results are ignored.`,
        fields: [reasonField], confirmLabel: 'Terminate', danger: true,
        onConfirm: async (v) => { await instanceAction(instanceId, 'terminate', { reason: v.reason }); done('Termination requested.'); },
      },
    },
    {
      id: 'rewind', label: 'Rewind', enabled: status === 'Failed',
      dialog: {
        title: 'Rewind this failed instance?', description: 'Failed activities and sub-orchestrations run again; everything that succeeded is kept.',
        fields: [reasonField], confirmLabel: 'Rewind',
        onConfirm: async (v) => { await instanceAction(instanceId, 'rewind', { reason: v.reason }); done('Rewind requested.'); },
      },
    },
    {
      id: 'restart', label: 'Restart', enabled: true,
      dialog: {
        title: 'Restart this instance?', description: `Starts ${name} again with the same input.`,
        fields: [{ name: 'newInstanceId', label: 'with a new instance id', kind: 'checkbox', value: true }], confirmLabel: 'Restart',
        onConfirm: async (v) => {
          const { instanceId: id } = await instanceAction(instanceId, 'restart', { newInstanceId: v.newInstanceId });
          if (id !== instanceId) location.assign(instanceUrl(id));
          else done('Restarted.');
        },
      },
    },
    {
      id: 'purge', label: 'Purge', enabled: terminal, danger: true,
      dialog: {
        title: 'Purge this instance?', description: `Deletes ${instanceId} and its history. This cannot be undone.`,
        confirmLabel: 'Purge', danger: true,
        onConfirm: async () => {
          await instanceAction(instanceId, 'purge', {});
          location.assign('/dashboard');
        },
      },
    },
  ];
  const current = actions.find((a) => a.id === open);
  return html`<div class="actions card" aria-label="Instance actions">
    ${actions.map(
      (a) => html`<button type="button" class=${a.danger ? 'danger-outline' : ''} disabled=${!a.enabled} data-action=${a.id}
        onClick=${() => setOpen(a.id)}>${a.label}</button>`,
    )}
    ${current ? html`<${ActionDialog} ...${current.dialog} onClose=${() => setOpen(null)} />` : null}
  </div>`;
}
