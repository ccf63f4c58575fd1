// Pause / resume / trigger buttons of a schedule (list rows and the schedule page).
import { useState } from 'preact/hooks';
import { ActionDialog, html, post, requestRefresh, toast } from './ui.js';

function scheduleAction(scheduleId, action, body) {
  return post(`/dashboard/api/schedules/${encodeURIComponent(scheduleId)}/${action}`, body);
}

export function ScheduleActions({ scheduleId, state }) {
  const [pausing, setPausing] = useState(false);
  const run = async (action, body) => {
    try {
      const answer = await scheduleAction(scheduleId, action, body);
      if (action === 'trigger') toast(`Started ${answer.instanceId}.`);
      else toast(`Schedule ${action === 'pause' ? 'paused' : 'resumed'}.`);
      requestRefresh();
      return answer;
    } catch (error) {
      toast(error.message, 'error');
      return undefined;
    }
  };
  return html`<span class="schedule-actions">
    ${state === 'Active'
      ? html`<button type="button" data-action="pause" onClick=${() => setPausing(true)}>Pause…</button>`
      : html`<button type="button" data-action="resume" onClick=${() => run('resume')}>Resume</button>`}
    <button type="button" class="primary" data-action="trigger" onClick=${() => run('trigger')}>Run now</button>
    ${pausing
      ? html`<${ActionDialog}
          title=${`Pause ${scheduleId}`}
          description="No new runs start until it is resumed; running instances go on."
          fields=${[{ name: 'reason', label: 'Reason', kind: 'text' }]}
          confirmLabel="Pause"
          onConfirm=${async (v) => {
            await scheduleAction(scheduleId, 'pause', { reason: v.reason });
            toast('Schedule paused.');
            requestRefresh();
          }}
          onClose=${() => setPausing(false)} />`
      : null}
  </span>`;
}
