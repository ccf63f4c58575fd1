/** The dashboard's pure parts: the escaping template, timeline pairing, histogram bins, list parameters. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent, type HistoryEvent } from '../../src/sdk/history.js';
import { assetPath } from '../../src/dashboard/assets.js';
import { safeNext } from '../../src/dashboard/auth.js';
import { buildHistogram } from '../../src/dashboard/histogram.js';
import { escapeHtml, html, trusted } from '../../src/dashboard/html.js';
import { ListParamError, listQueryString, parseListParams } from '../../src/dashboard/list-query.js';
import { buildTimeline, childInstances, parentInstance } from '../../src/dashboard/timeline.js';
import { utcTime } from '../../src/dashboard/time.js';

test('html escapes every interpolation, nested templates and arrays stay markup', () => {
  const evil = `<script>alert("x")</script>' & \``;
  const out = html`<p title="${evil}">${evil}</p>${[html`<b>${evil}</b>`, evil]}${undefined}${null}${false}${0}`.value;
  assert.ok(!out.includes('<script>'));
  assert.equal(out.split(escapeHtml(evil)).length - 1, 4);
  assert.ok(out.startsWith('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;">'));
  assert.ok(out.includes('<b>&lt;script&gt;'));
  assert.ok(out.endsWith('0'));
  assert.equal(html`${trusted('<i>ok</i>')}`.value, '<i>ok</i>');
});

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms);

test('the timeline pairs scheduling events with their completions by sequence id', () => {
  const history: HistoryEvent[] = [
    makeEvent({ eventType: 'ExecutionStarted', name: 'main', instanceId: 'p', executionId: 'e', parentInstance: { name: 'top', instanceId: 'top-1', executionId: 'x', taskScheduledId: 4 } }, at(0)),
    makeEvent({ eventType: 'TaskScheduled', eventId: 0, name: 'a' }, at(10)),
    makeEvent({ eventType: 'TaskScheduled', eventId: 1, name: 'b' }, at(10)),
    makeEvent({ eventType: 'TimerCreated', eventId: 2, fireAt: at(500).toISOString() }, at(10)),
    makeEvent({ eventType: 'SubOrchestrationInstanceCreated', eventId: 3, name: 'kid', instanceId: 'kid-1' }, at(10)),
    makeEvent({ eventType: 'TaskFailed', taskScheduledId: 1, failureDetails: { errorType: 'Error', message: 'boom' } }, at(40)),
    makeEvent({ eventType: 'TaskCompleted', taskScheduledId: 0, result: '1' }, at(90)),
    makeEvent({ eventType: 'TaskCompleted', taskScheduledId: 0, result: '1' }, at(95)), // duplicate: ignored
    makeEvent({ eventType: 'TimerFired', timerId: 2, fireAt: at(500).toISOString() }, at(10)),
    makeEvent({ eventType: 'EventRaised', name: 'go' }, at(600)),
    makeEvent({ eventType: 'SubOrchestrationInstanceCompleted', taskScheduledId: 3 }, at(700)),
    makeEvent({ eventType: 'ExecutionSuspended' }, at(710)),
    makeEvent({ eventType: 'ExecutionResumed' }, at(760)),
    makeEvent({ eventType: 'ExecutionCompleted', orchestrationStatus: 'Completed', result: '2' }, at(800)),
  ];
  const timeline = buildTimeline(history, at(10_000).getTime());
  const rows = timeline.spans.map((s) => [s.kind, s.label, s.end === undefined ? undefined : s.end - s.start, s.outcome]);
  assert.deepEqual(rows, [
    ['orchestration', 'main', 800, 'completed'],
    ['activity', 'a', 80, 'completed'],
    ['activity', 'b', 30, 'failed'],
    ['timer', 'timer', 490, 'completed'], // ends at its due time, not at the TimerFired stamp
    ['sub-orchestration', 'kid', 690, 'completed'],
    ['event-raised', 'go', 0, 'point'],
    ['suspended', 'suspended', 50, 'completed'],
  ]);
  assert.equal(timeline.spans[2]?.error, 'boom');
  assert.equal(timeline.end - timeline.start, 800);
  assert.deepEqual(childInstances(history), [{ instanceId: 'kid-1', name: 'kid' }]);
  assert.deepEqual(parentInstance(history), { instanceId: 'top-1', name: 'top' });
});

test('open spans run until now while the instance runs, and end with a terminated instance', () => {
  const running: HistoryEvent[] = [
    makeEvent({ eventType: 'ExecutionStarted', name: 'main', instanceId: 'p', executionId: 'e' }, at(0)),
    makeEvent({ eventType: 'TaskScheduled', eventId: 0, name: 'slow' }, at(10)),
  ];
  const open = buildTimeline(running, at(1000).getTime());
  assert.deepEqual(open.spans.map((s) => [s.outcome, s.end]), [['open', undefined], ['open', undefined]]);
  assert.equal(open.end, at(1000).getTime());
  const ended = buildTimeline([...running, makeEvent({ eventType: 'ExecutionCompleted', orchestrationStatus: 'Terminated' }, at(300))], at(1000).getTime());
  assert.deepEqual(ended.spans.map((s) => [s.outcome, s.end! - s.start]), [['terminated', 300], ['open', 290]]);
});

test('the histogram bins starts by round steps and splits them by status group', () => {
  const instances = [
    { createdTime: at(0), runtimeStatus: 'Completed' as const },
    { createdTime: at(30_000), runtimeStatus: 'Failed' as const },
    { createdTime: at(61_000), runtimeStatus: 'Running' as const },
    { createdTime: at(62_000), runtimeStatus: 'Terminated' as const },
  ];
  const h = buildHistogram(instances, { from: at(0), to: at(117_999) }, 60);
  assert.equal(h.binMs, 2000);
  assert.equal(h.bins.length, 59);
  assert.equal(h.bins.reduce((n, b) => n + b.total, 0), 4);
  assert.deepEqual(h.bins[0]?.groups, { completed: 1, failed: 0, running: 0, other: 0 });
  assert.deepEqual(h.bins[15]?.groups, { completed: 0, failed: 1, running: 0, other: 0 });
  assert.deepEqual(h.bins[30]?.groups, { completed: 0, failed: 0, running: 1, other: 0 });
  assert.deepEqual(h.bins[31]?.groups, { completed: 0, failed: 0, running: 0, other: 1 });
  const short = buildHistogram(instances.slice(0, 1), {}, 60, 24);
  assert.equal(short.bins.length, 24, 'a single start still gets a row of bars');
  assert.equal(short.bins[23]?.total, 1);
  assert.deepEqual(buildHistogram([], {}).bins, []);
});

test('list parameters parse strictly and round-trip through the query string', () => {
  const params = parseListParams(new URLSearchParams('status=running,Failed&status=Failed&name=pipe&prefix=a%2Fb&from=2025-01-02T03:04&size=25&sort=name'));
  assert.deepEqual(params.statuses, ['Running', 'Failed']);
  assert.equal(params.from?.toISOString(), '2025-01-02T03:04:00.000Z');
  assert.equal(params.dir, 'asc');
  assert.deepEqual(parseListParams(new URLSearchParams(listQueryString(params))), params);
  for (const bad of ['status=Nope', 'sort=evil', 'dir=sideways', 'size=0', 'size=abc', 'from=yesterday', 'from=2025-02-01&to=2025-01-01', 'after=%%%']) {
    assert.throws(() => parseListParams(new URLSearchParams(bad)), ListParamError, bad);
  }
});

test('asset names outside the assets folder are refused; redirects stay inside the dashboard', () => {
  for (const name of ['../dashboard.ts', '..%2fdashboard.ts', '%2e%2e/x.js', 'a/../../x.js', '/etc/passwd', 'x.ts', 'dashboard.css/', 'a\\b.js', '']) {
    assert.equal(assetPath(name), undefined, name);
  }
  assert.ok(assetPath('dashboard.css')?.endsWith('dashboard.css'));
  assert.ok(assetPath('vendor/preact.mjs')?.includes('preact'));
  assert.equal(safeNext('https://evil.example/'), '/dashboard');
  assert.equal(safeNext('//evil.example/dashboard'), '/dashboard');
  assert.equal(safeNext('/dashboardx'), '/dashboard');
  assert.equal(safeNext('/dashboard/instances/a?b=1'), '/dashboard/instances/a?b=1');
});

test('a time renders in UTC inside <time datetime> (hover: the UTC time until the browser puts in its local one)', () => {
  const when = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
  assert.equal(String(utcTime(when)), '<time datetime="2025-01-02T03:04:05.678Z" title="2025-01-02 03:04:05 UTC">2025-01-02 03:04:05 UTC</time>');
  assert.equal(String(utcTime(when.toISOString(), { unit: false })), '<time datetime="2025-01-02T03:04:05.678Z" title="2025-01-02 03:04:05 UTC">2025-01-02 03:04:05</time>');
  assert.equal(utcTime(undefined), '');
  assert.equal(utcTime('not a date'), 'not a date');
});

test('a created-time cursor must hold a millisecond time (the store pages by it)', () => {
  const cursor = (value: unknown) => Buffer.from(JSON.stringify([value, 'id-1'])).toString('base64url');
  assert.equal(parseListParams(new URLSearchParams(`after=${cursor(1_700_000_000_000)}`)).after, cursor(1_700_000_000_000));
  for (const bad of ['text', -1, 1.5]) assert.throws(() => parseListParams(new URLSearchParams(`after=${cursor(bad)}`)), ListParamError);
  assert.equal(parseListParams(new URLSearchParams(`sort=name&after=${cursor('text')}`)).after, cursor('text'), 'other columns keep any value');
});
