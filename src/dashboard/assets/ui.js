// Shared pieces of the dashboard islands: the htm binding, the action API, toasts, the modal dialog.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

/** JSX-like templates for preact (text is always set as text, never parsed as markup). */
export const html = htm.bind(h);

/** POSTs a dashboard action; resolves with the JSON answer or throws an Error with the server's message. */
export async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
    body: JSON.stringify(body ?? {}),
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    // an empty or non-JSON answer
  }
  if (!response.ok) throw new Error(data.message || `The server answered ${response.status}.`);
  return data;
}

/** The action endpoint of one instance. */
export function instanceAction(instanceId, action, body) {
  return post(`/dashboard/api/instances/${encodeURIComponent(instanceId)}/${action}`, body);
}

/** The URL of an instance page. */
export function instanceUrl(instanceId) {
  return `/dashboard/instances/${encodeURIComponent(instanceId)}`;
}

/** Asks every auto-refresh island to reload its regions now. */
export function requestRefresh() {
  document.dispatchEvent(new CustomEvent('duraflow:refresh'));
}

/** Shows a short message at the bottom of the page. */
export function toast(message, kind = 'ok') {
  const root = document.getElementById('toast-root');
  if (!root) return;
  const item = document.createElement('div');
  item.className = `toast ${kind}`;
  item.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  item.textContent = message;
  root.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** Parses the JSON a user typed: `{ value }`, `{ empty: true }` or `{ error }`. */
export function parseJsonField(text) {
  if (text.trim() === '') return { empty: true };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: error.message };
  }
}

/**
 * A confirmation dialog with fields. `fields`: [{ name, label, kind: 'text'|'json'|'select'|'checkbox',
 * options?, placeholder?, required?, value? }]. `onConfirm(values)` runs the action; a thrown error is shown
 * in the dialog, which stays open.
 */
export function ActionDialog({ title, description, fields = [], confirmLabel = 'Confirm', danger = false, onConfirm, onClose }) {
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.name, f.value ?? (f.kind === 'checkbox' ? false : '')])));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => {
    first.current?.focus();
    const onKey = (event) => event.key === 'Escape' && onClose();
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  const jsonErrors = Object.fromEntries(
    fields.filter((f) => f.kind === 'json').map((f) => [f.name, parseJsonField(values[f.name] || '').error]),
  );
  const missing = fields.some((f) => f.required && String(values[f.name] ?? '').trim() === '');
  const invalid = missing || Object.values(jsonErrors).some(Boolean);
  const set = (name, value) => setValues({ ...values, [name]: value });
  const submit = async (event) => {
    event.preventDefault();
    if (invalid || busy) return;
    setBusy(true);
    setError('');
    try {
      await onConfirm(values);
      onClose();
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  const field = (f, i) => {
    const ref = i === 0 ? first : undefined;
    const id = `field-${f.name}`;
    if (f.kind === 'checkbox') {
      return html`<label class="check" key=${f.name}><input ref=${ref} id=${id} type="checkbox" name=${f.name} checked=${values[f.name]}
        onChange=${(e) => set(f.name, e.currentTarget.checked)} /> ${f.label}</label>`;
    }
    if (f.kind === 'select') {
      return html`<label key=${f.name}>${f.label}<select ref=${ref} id=${id} name=${f.name} value=${values[f.name]}
        onChange=${(e) => set(f.name, e.currentTarget.value)}>
        <option value="">— choose —</option>
        ${f.options.map((o) => html`<option value=${o}>${o}</option>`)}</select></label>`;
    }
    if (f.kind === 'json') {
      return html`<label key=${f.name}>${f.label}<textarea ref=${ref} id=${id} name=${f.name} rows="6" spellcheck="false"
        placeholder=${f.placeholder ?? 'JSON, e.g. {"key": "value"} — empty for none'} value=${values[f.name]}
        onInput=${(e) => set(f.name, e.currentTarget.value)}></textarea>
        ${jsonErrors[f.name] ? html`<span class="field-error">Not valid JSON: ${jsonErrors[f.name]}</span>` : null}</label>`;
    }
    return html`<label key=${f.name}>${f.label}<input ref=${ref} id=${id} name=${f.name} value=${values[f.name]} placeholder=${f.placeholder ?? ''}
      list=${f.options ? `${id}-options` : undefined} autocomplete="off" onInput=${(e) => set(f.name, e.currentTarget.value)} />
      ${f.options ? html`<datalist id=${`${id}-options`}>${f.options.map((o) => html`<option value=${o} />`)}</datalist>` : null}</label>`;
  };
  return html`<div class="modal-backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <form class="modal" role="dialog" aria-modal="true" aria-label=${title} onSubmit=${submit}>
      <h2>${title}</h2>
      ${description ? html`<p class="modal-description">${description}</p>` : null}
      ${fields.map(field)}
      ${error ? html`<div class="banner error" role="alert">${error}</div>` : null}
      <div class="modal-buttons">
        <button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : 'primary'} disabled=${invalid || busy} data-confirm>${busy ? 'Working…' : confirmLabel}</button>
      </div>
    </form>
  </div>`;
}
