// Pure helpers of the dashboard: the window arithmetic, the shaping of the
// analytics report into chart data, and number formats. No DOM here, so
// that `npm test` can check them with node --test.

// TIERS are the serving tiers in walk order, each with its colour; every
// chart uses these colours so a tier reads the same everywhere.
export const TIERS = [
  { id: 'cache', label: 'Cache', color: '#0ea5a4' },
  { id: 'vector', label: 'Vector', color: '#6366f1' },
  { id: 'batch', label: 'Batch', color: '#f59e0b' },
  { id: 'popular', label: 'Popular', color: '#ec4899' },
];

export const tierColor = (id) => (TIERS.find((t) => t.id === id) || { color: '#94a3b8' }).color;
export const tierLabel = (id) => (TIERS.find((t) => t.id === id) || { label: id || 'unknown' }).label;

// WINDOWS are the windows the header offers, with the period of their
// time series.
export const WINDOWS = {
  '1h': { label: 'Last hour', ms: 3600e3, granularity: 'hour' },
  '24h': { label: '24 hours', ms: 24 * 3600e3, granularity: 'hour' },
  '7d': { label: '7 days', ms: 7 * 24 * 3600e3, granularity: 'day' },
};

const HOUR = 3600e3;
const DAY = 24 * HOUR;

// windowQuery is the query string of the summary for window key w ending
// at now (a Date).
export function windowQuery(w, now) {
  const win = WINDOWS[w] || WINDOWS['24h'];
  const to = now.getTime();
  const from = to - win.ms;
  const q = new URLSearchParams({
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    granularity: win.granularity,
  });
  return q.toString();
}

// periods lists the starts (ms, UTC-truncated like the server does) of
// every period of the window, so that hours without traffic show as gaps
// rather than being squeezed out of the time axis.
export function periods(fromISO, toISO, granularity) {
  const step = granularity === 'day' ? DAY : HOUR;
  const from = Date.parse(fromISO);
  const to = Date.parse(toISO);
  const out = [];
  if (!(from < to)) return out;
  for (let p = Math.floor(from / step) * step; p < to; p += step) out.push(p);
  return out;
}

// ctrSeries shapes report.series into one dataset per tier that served in
// the window (in walk order) plus the overall CTR, over every period of
// the window; a period where a tier served nothing is null (a gap).
export function ctrSeries(report) {
  const slots = periods(report.from, report.to, report.granularity);
  const byPeriod = new Map();
  for (const s of report.series || []) byPeriod.set(Date.parse(s.period), s);
  const used = new Set();
  for (const s of report.series || []) for (const t of Object.keys(s.by_tier || {})) used.add(t);
  const tiers = TIERS.map((t) => t.id).filter((t) => used.has(t));
  for (const t of used) if (!tiers.includes(t)) tiers.push(t);
  const datasets = tiers.map((tier) => ({
    tier,
    data: slots.map((p) => {
      const cell = byPeriod.get(p)?.by_tier?.[tier];
      return cell && cell.impressions > 0 ? cell.ctr : null;
    }),
  }));
  const overall = slots.map((p) => {
    const s = byPeriod.get(p);
    return s && s.impressions > 0 ? s.ctr : null;
  });
  const points = datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0);
  return { slots, datasets, overall, points };
}

// tierMix is the share of requests per tier, in walk order.
export function tierMix(report) {
  const rows = [...(report.by_tier || [])].filter((t) => t.impressions > 0);
  rows.sort((a, b) => order(a.tier) - order(b.tier));
  return rows;
}

// latencyBars is one dataset per tier with its p50, p95 and p99 (ms).
export function latencyBars(report) {
  return tierMix(report)
    .filter((t) => t.latency && t.latency.count > 0)
    .map((t) => ({ tier: t.tier, data: [t.latency.p50_ms, t.latency.p95_ms, t.latency.p99_ms] }));
}

// modelHistory is NDCG@10 of every model, oldest first, beside the
// popularity baseline measured on the same holdout.
export function modelHistory(report) {
  const models = [...(report.models || [])].filter((m) => m.metrics && m.metrics['ndcg@10'] !== undefined);
  models.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  return {
    models,
    ndcg: models.map((m) => m.metrics['ndcg@10']),
    baseline: models.map((m) => m.metrics['popularity_ndcg@10'] ?? null),
  };
}

// ctrLift is the CTR of lists computed from a model over the CTR of
// popular lists (those with no model version), or null when either is
// missing.
export function ctrLift(byModel) {
  let imp = 0;
  let clicks = 0;
  let popular = null;
  for (const m of byModel) {
    if (m.model_version) {
      imp += m.impressions;
      clicks += m.clicks;
    } else if (m.impressions > 0) popular = m.ctr;
  }
  if (!imp || !popular) return null;
  return clicks / imp / popular;
}

function order(tier) {
  const i = TIERS.findIndex((t) => t.id === tier);
  return i < 0 ? TIERS.length : i;
}

// Formats.
const int = new Intl.NumberFormat('en-US');
export const fmtInt = (n) => int.format(Math.round(n || 0));
export const fmtPct = (x, digits = 1) => `${((x || 0) * 100).toFixed(digits)}%`;

// fmtMs prints a duration in milliseconds with the precision it deserves.
export function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms === 0) return '0';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 0.1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

// fmtTickMs labels an axis tick in milliseconds with one unit for the
// whole axis: µs when the axis stays under a millisecond.
export function fmtTickMs(value, ticks) {
  const top = Math.max(...ticks.map((t) => t.value));
  if (value === 0) return '0';
  if (top < 1) return `${Math.round(value * 1000)} µs`;
  if (top < 10) return `${value.toFixed(1)} ms`;
  if (top >= 2000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value)} ms`;
}

// fmtSeconds prints a duration given in seconds.
export function fmtSeconds(s) {
  if (!(s >= 0)) return '–';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

// fmtPeriod labels a period start (ms) in local time.
export function fmtPeriod(ms, granularity) {
  const d = new Date(ms);
  if (granularity === 'day') return d.toLocaleDateString('en-US', { weekday: 'short', day: 'numeric' });
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

// fmtClock labels an instant (ISO string or Date) as local date and time.
export function fmtClock(t) {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// modelLabels labels models by creation time to the minute, or to the
// second when two would otherwise read the same.
export function modelLabels(models) {
  const minute = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  const labels = models.map((m) => new Date(m.created_at).toLocaleString('en-GB', minute));
  if (new Set(labels).size === labels.length) return labels;
  return models.map((m) => new Date(m.created_at).toLocaleString('en-GB', { ...minute, second: '2-digit' }));
}

// fmtLoss prints a training loss compactly (66,567 → 66.6k).
export function fmtLoss(x) {
  if (!(x > 0)) return '–';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(2);
}
