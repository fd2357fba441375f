// node --test: the shaping of the analytics report into chart data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ctrLift, ctrSeries, fmtMs, fmtTickMs, latencyBars, modelHistory, modelLabels, periods, tierMix, windowQuery } from './model.js';

const report = {
  from: '2026-11-29T10:30:00Z',
  to: '2026-11-29T13:30:00Z',
  granularity: 'hour',
  series: [
    { period: '2026-11-29T10:00:00Z', impressions: 10, clicks: 4, ctr: 0.4, by_tier: { vector: { impressions: 10, clicks: 4, ctr: 0.4 } } },
    {
      period: '2026-11-29T12:00:00Z', impressions: 20, clicks: 5, ctr: 0.25,
      by_tier: { popular: { impressions: 10, clicks: 1, ctr: 0.1 }, cache: { impressions: 10, clicks: 4, ctr: 0.4 } },
    },
  ],
  by_tier: [
    { tier: 'popular', impressions: 10, clicks: 1, ctr: 0.1, share: 1 / 3, latency: { count: 10, p50_ms: 1, p95_ms: 2, p99_ms: 3 } },
    { tier: 'vector', impressions: 10, clicks: 4, ctr: 0.4, share: 1 / 3, latency: { count: 10, p50_ms: 4, p95_ms: 5, p99_ms: 6 } },
    { tier: 'batch', impressions: 0, clicks: 0, ctr: 0, share: 0, latency: { count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0 } },
  ],
  models: [
    { version: 'b', created_at: '2026-11-29T12:00:00Z', status: 'serving', metrics: { 'ndcg@10': 0.3, 'popularity_ndcg@10': 0.2 } },
    { version: 'a', created_at: '2026-11-29T11:00:00Z', status: 'retired', metrics: { 'ndcg@10': 0.25, 'popularity_ndcg@10': 0.19 } },
    { version: 'failed', created_at: '2026-11-29T11:30:00Z', status: 'candidate', metrics: {} },
  ],
};

test('periods cover the window hour by hour from the truncated start', () => {
  const p = periods(report.from, report.to, 'hour');
  assert.deepEqual(p.map((x) => new Date(x).toISOString().slice(11, 16)), ['10:00', '11:00', '12:00', '13:00']);
  assert.equal(periods('2026-11-22T13:30:00Z', '2026-11-29T13:30:00Z', 'day').length, 8);
  assert.deepEqual(periods(report.to, report.from, 'hour'), []);
});

test('ctrSeries has a dataset per tier in walk order, with gaps where a tier did not serve', () => {
  const s = ctrSeries(report);
  assert.deepEqual(s.datasets.map((d) => d.tier), ['cache', 'vector', 'popular']);
  assert.deepEqual(s.datasets[1].data, [0.4, null, null, null]);
  assert.deepEqual(s.datasets[0].data, [null, null, 0.4, null]);
  assert.deepEqual(s.overall, [0.4, null, 0.25, null]);
  assert.equal(s.points, 3);
  assert.equal(ctrSeries({ ...report, series: [] }).points, 0);
});

test('tierMix and latencyBars skip tiers without traffic, in walk order', () => {
  assert.deepEqual(tierMix(report).map((t) => t.tier), ['vector', 'popular']);
  assert.deepEqual(latencyBars(report), [{ tier: 'vector', data: [4, 5, 6] }, { tier: 'popular', data: [1, 2, 3] }]);
});

test('modelHistory is oldest first, with the baseline beside each model', () => {
  const h = modelHistory(report);
  assert.deepEqual(h.models.map((m) => m.version), ['a', 'b']);
  assert.deepEqual(h.ndcg, [0.25, 0.3]);
  assert.deepEqual(h.baseline, [0.19, 0.2]);
});

test('windowQuery asks for the window ending now at its granularity', () => {
  const q = new URLSearchParams(windowQuery('7d', new Date('2026-11-29T12:00:00Z')));
  assert.equal(q.get('from'), '2026-11-22T12:00:00.000Z');
  assert.equal(q.get('granularity'), 'day');
  assert.equal(new URLSearchParams(windowQuery('bogus', new Date())).get('granularity'), 'hour');
});

test('fmtMs keeps about three significant digits', () => {
  assert.equal(fmtMs(0), '0');
  assert.equal(fmtMs(0.031), '31 µs');
  assert.equal(fmtMs(0.56), '0.56 ms');
  assert.equal(fmtMs(12.34), '12.3 ms');
  assert.equal(fmtMs(250), '250 ms');
  assert.equal(fmtMs(1500), '1.50 s');
  assert.equal(fmtMs(undefined), '–');
});

test('modelLabels add seconds only when minutes collide', () => {
  const a = modelLabels([{ created_at: '2026-11-28T02:00:00Z' }, { created_at: '2026-11-29T02:00:00Z' }]);
  assert.equal(new Set(a).size, 2);
  assert.ok(!/:\d\d:\d\d/.test(a[0]));
  const b = modelLabels([{ created_at: '2026-11-29T14:18:01Z' }, { created_at: '2026-11-29T14:18:30Z' }]);
  assert.equal(new Set(b).size, 2);
  assert.ok(/:\d\d:\d\d/.test(b[0]));
});

test('ctrLift compares model lists with popular ones', () => {
  const rows = [
    { model_version: 'a', impressions: 100, clicks: 30 },
    { model_version: 'b', impressions: 100, clicks: 50 },
    { model_version: '', impressions: 50, clicks: 5, ctr: 0.1 },
  ];
  assert.equal(ctrLift(rows), 4);
  assert.equal(ctrLift(rows.slice(0, 2)), null);
  assert.equal(ctrLift(rows.slice(2)), null);
});

test('fmtTickMs uses one unit per axis', () => {
  const sub = [0, 0.05, 0.1, 0.25].map((value) => ({ value }));
  assert.deepEqual(sub.map((t) => fmtTickMs(t.value, sub)), ['0', '50 µs', '100 µs', '250 µs']);
  const ms = [0, 20, 40].map((value) => ({ value }));
  assert.deepEqual(ms.map((t) => fmtTickMs(t.value, ms)), ['0', '20 ms', '40 ms']);
});
