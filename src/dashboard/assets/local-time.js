// Puts the browser's local time into the hover of every server-rendered UTC time (`<time datetime>`), at load and
// in regions an auto-refresh swapped in. The page itself stays in UTC, one zone for everyone reading it.
const FORMAT = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' };

/** Sets the local-time title of each `time[datetime]` not done yet. */
export function localizeTimes() {
  for (const element of document.querySelectorAll('time[datetime]:not([data-local])')) {
    const date = new Date(element.getAttribute('datetime'));
    if (Number.isNaN(date.getTime())) continue;
    element.title = `${date.toLocaleString(undefined, FORMAT)} (your local time)`;
    element.setAttribute('data-local', '');
  }
}
