// Marquee's dashboard: polls the analytics summary, the training job and
// readiness of the node that serves it every 5 seconds and draws them.
//
// For the browser test, each card with data carries
// data-chart="<name>" data-points="<n>" (n > 0 once it shows data), and
// <body data-ready="true"> is set after the first complete render.
import './style.css';
import { ctrChart, latencyChart, mixChart, modelChart } from './charts.js';
import {
  WINDOWS, ctrLift, ctrSeries, fmtClock, fmtInt, fmtLoss, fmtMs, fmtPct, fmtSeconds, latencyBars, modelHistory,
  tierColor, tierLabel, tierMix, windowQuery,
} from './model.js';

const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const card = (name) => document.querySelector(`[data-chart="${name}"]`);

const draw = {
  ctr: ctrChart($('chart-ctr')),
  mix: mixChart($('chart-mix')),
  latency: latencyChart($('chart-latency')),
  models: modelChart($('chart-models')),
};

let windowKey = WINDOWS[location.hash.slice(1)] ? location.hash.slice(1) : '24h';
let timer = 0;
let inflight = null;
let explainOnce = null; // the first explained list, asked for with the first refresh

// mark records how many data points a card shows, and shows its
// placeholder when there are none.
function mark(name, points) {
  const el = card(name);
  el.dataset.points = String(points);
  el.classList.toggle('is-empty', points === 0);
}

function text(id, value) {
  $(id).textContent = value;
}

function pill(el, kind, label) {
  el.className = `pill pill-${kind}`;
  el.querySelector('b').textContent = label;
}

// API keys: when the node requires them (401), the page asks for one and
// keeps it in sessionStorage, for this tab only: never in a URL, a cookie
// or the page. The analytics need the read scope, training progress admin.
const KEY_ITEM = 'marquee.apiKey';

async function getJSON(path, signal) {
  const headers = { Accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_ITEM);
  if (key) headers.Authorization = `Bearer ${key}`;
  const r = await fetch(path, { signal, cache: 'no-store', headers });
  if (!r.ok) {
    let detail = '';
    try {
      detail = (await r.json()).detail || '';
    } catch {
      // not a problem document
    }
    const err = new Error(`${path.split('?')[0]} answered ${r.status}${detail ? `: ${detail}` : ''}`);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

// askForKey replaces the banner with a form for the API key; polling stops
// until one is given.
function askForKey(message) {
  const form = document.createElement('form');
  const input = Object.assign(document.createElement('input'), {
    type: 'password', autocomplete: 'off', required: true, placeholder: 'API key', size: 40,
  });
  const button = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Use key' });
  input.style.margin = button.style.margin = '0 0 0 10px';
  form.append(message, input, button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_ITEM, input.value.trim());
    refresh();
  });
  const banner = $('banner');
  banner.replaceChildren(form);
  banner.hidden = false;
  input.focus();
}

// cell is a table cell with text and an optional class.
function cell(content, className) {
  const td = document.createElement('td');
  td.textContent = content;
  if (className) td.className = className;
  return td;
}

// barCell is a table cell holding a horizontal bar filled to pct.
function barCell(pct, color) {
  const td = document.createElement('td');
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${Math.max(0, Math.min(100, pct))}%`;
  if (color) fill.style.background = color;
  bar.append(fill);
  td.append(bar);
  return td;
}

function renderTotals(rep) {
  const t = rep.totals;
  text('kpi-impressions', fmtInt(t.impressions));
  text('kpi-clicks', fmtInt(t.clicks));
  text('kpi-ctr', t.impressions ? fmtPct(t.ctr) : '–');
  text('kpi-coverage', fmtPct(t.coverage));
  $('kpi-coverage-bar').style.width = `${Math.min(100, t.coverage * 100)}%`;
  text('kpi-coverage-sub', `${fmtInt(t.distinct_recommended)} of ${fmtInt(t.catalog_size)} movies recommended`);
  text('kpi-diversity', t.lists_sampled ? t.diversity.toFixed(2) : '–');
  text('kpi-diversity-sub', t.lists_sampled
    ? `genre distance within a list (0–1), ${fmtInt(t.lists_sampled)} lists`
    : 'genre distance within a list, 0–1');
  text('kpi-novelty', t.lists_sampled ? t.novelty.toFixed(1) : '–');
  text('kpi-novelty-sub', `mean popularity rank of ${fmtInt(t.catalog_size)} (1 = most popular)`);
  mark('totals', t.impressions);
  mark('coverage', t.distinct_recommended);
}

function renderMix(rep) {
  const rows = tierMix(rep);
  draw.mix(rows);
  text('mix-total', fmtInt(rep.totals.impressions));
  const body = $('mix-legend').tBodies[0];
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.background = tierColor(r.tier);
    name.append(dot, tierLabel(r.tier));
    tr.append(name, cell(fmtPct(r.share)), cell(fmtInt(r.impressions)), cell(fmtPct(r.ctr)));
    return tr;
  }));
  mark('tier-mix', rows.length);
}

function renderFreshness(rep) {
  const f = rep.freshness;
  text('fresh-p50', f.count ? fmtMs(f.p50_ms) : '–');
  text('fresh-p99', f.count ? fmtMs(f.p99_ms) : '–');
  text('fresh-sub', `${fmtInt(f.count)} events, from arrival to the user's new preference vector`);
  const top = f.p99_ms || 1;
  $('fresh-rows').tBodies[0].replaceChildren(...[['p50', f.p50_ms], ['p95', f.p95_ms], ['p99', f.p99_ms]].map(([k, v]) => {
    const tr = document.createElement('tr');
    tr.append(cell(k, 'k'), barCell((100 * v) / top), cell(fmtMs(v), 'c'));
    return tr;
  }));
  mark('freshness', f.count);
}

function renderModelCTR(rep) {
  const rows = [...(rep.by_model || [])].filter((m) => m.impressions > 0)
    .sort((a, b) => b.impressions - a.impressions).slice(0, 5);
  const best = Math.max(0.0001, ...rows.map((r) => r.ctr));
  $('model-ctr').tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    const v = document.createElement('td');
    v.className = 'v';
    v.textContent = r.model_version || 'no model (popular)';
    v.title = v.textContent;
    const color = r.model_version ? tierColor('vector') : tierColor('popular');
    tr.append(v, barCell((100 * r.ctr) / best, color), cell(fmtPct(r.ctr), 'c'), cell(`${fmtInt(r.impressions)} lists`, 'n'));
    return tr;
  }));
  const lift = ctrLift(rep.by_model || []);
  $('model-lift-box').hidden = lift === null;
  text('model-lift', lift === null ? '–' : `${lift.toFixed(1)}×`);
  mark('ctr-by-model', rows.length);
}

function renderReport(rep) {
  renderTotals(rep);

  const series = ctrSeries(rep);
  draw.ctr(series, rep.granularity);
  text('ctr-hint', rep.granularity === 'day' ? 'per day' : 'per hour');
  mark('ctr-by-tier', series.points);

  renderMix(rep);

  const bars = latencyBars(rep);
  draw.latency(bars);
  mark('latency', bars.length * 3);

  renderFreshness(rep);
  renderModelCTR(rep);

  const history = modelHistory(rep);
  draw.models(history);
  mark('model-history', history.models.length);

  const serving = (rep.models || []).find((m) => m.status === 'serving');
  text('node-model', serving ? serving.version : 'no model yet');
}

const PHASES = ['loading', 'tuning', 'training', 'refitting', 'evaluating', 'publishing'];

function renderTraining(tr) {
  const job = tr.current;
  const state = $('train-state');
  if (!job) {
    pill(state, 'wait', 'idle');
    mark('training', 0);
    return;
  }
  const done = job.state !== 'running';
  if (job.state === 'running') pill(state, 'run', job.phase);
  else if (job.state === 'succeeded') pill(state, 'ok', job.promoted ? 'published' : 'candidate');
  else pill(state, 'bad', job.state);

  const at = done ? PHASES.length : PHASES.indexOf(job.phase);
  for (const li of $('train-phases').children) {
    const i = PHASES.indexOf(li.dataset.phase);
    li.className = '';
    if (li.dataset.phase === 'tuning' && !job.tuned && (done || at > i)) li.className = 'skipped';
    else if (job.state === 'failed' && i === at) li.className = '';
    else if (i < at || (done && job.state === 'succeeded')) li.className = 'done';
    else if (i === at) li.className = 'now';
  }
  let frac = 0;
  if (job.iterations > 0) frac = job.iteration / job.iterations;
  if (PHASES.indexOf(job.phase) > PHASES.indexOf('training') || job.phase === 'done') frac = 1;
  $('train-bar').style.width = `${Math.min(100, frac * 100)}%`;

  text('train-iter', job.iterations ? `${job.iteration} / ${job.iterations}` : '–');
  text('train-loss', fmtLoss(job.loss));
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  text('train-time', fmtSeconds((end - Date.parse(job.started_at)) / 1000));
  const ndcg = job.metrics && job.metrics['ndcg@10'];
  text('train-ndcg', ndcg !== undefined ? ndcg.toFixed(3) : '–');

  let sub = `${job.reason} job started ${fmtClock(job.started_at)}`;
  if (job.state === 'failed') sub = `failed: ${job.error || 'unknown error'}`;
  else if (done && job.model_version) {
    sub = job.promoted ? `${job.model_version} is serving` : `${job.model_version} kept as a candidate (${job.gate_reason})`;
  }
  text('train-sub', sub);
  renderRecentJobs(tr.recent || []);
  mark('training', Math.max(1, job.iteration));
}

// renderRecentJobs lists the jobs before the current one, newest first.
function renderRecentJobs(jobs) {
  $('train-recent').tBodies[0].replaceChildren(...jobs.slice(0, 3).map((j) => {
    const tr = document.createElement('tr');
    const v = cell(j.model_version || j.id, 'v');
    v.title = v.textContent;
    const ndcg = j.metrics && j.metrics['ndcg@10'];
    const end = j.finished_at ? Date.parse(j.finished_at) : Date.now();
    const tag = document.createElement('span');
    if (j.state === 'failed') [tag.className, tag.textContent] = ['tag tag-bad', 'failed'];
    else if (j.state === 'running') [tag.className, tag.textContent] = ['tag tag-warn', j.phase];
    else if (j.promoted) [tag.className, tag.textContent] = ['tag tag-ok', 'published'];
    else [tag.className, tag.textContent] = ['tag tag-warn', 'candidate'];
    const state = document.createElement('td');
    state.className = 's';
    state.append(tag);
    tr.append(v, cell(j.reason, 'n'), cell(ndcg !== undefined ? ndcg.toFixed(3) : '–', 's'),
      cell(fmtSeconds((end - Date.parse(j.started_at)) / 1000), 's'), state);
    return tr;
  }));
}

// renderExplain asks once (not every poll: each list asked for is served
// and logged) for a user's list with explain=true and shows, for each
// movie, the history movies behind it with their share of its score.
async function renderExplain() {
  const user = $('explain-user').value.trim();
  const list = $('explain-list');
  let rec;
  try {
    rec = await getJSON(`/api/recommendations?user_id=${encodeURIComponent(user)}&n=5&explain=true`);
  } catch (err) {
    list.replaceChildren();
    mark('explain', 0);
    return;
  }
  let explained = 0;
  list.replaceChildren(...rec.items.map((it) => {
    const li = document.createElement('li');
    const title = document.createElement('b');
    title.textContent = it.title || it.movie_id;
    li.append(title);
    const because = it.because || [];
    if (because.length) explained++;
    const why = document.createElement('span');
    why.className = 'because';
    why.textContent = because.length
      ? `because of ${because.map((r) => `${r.title || r.movie_id} (${r.share.toFixed(2)})`).join(', ')}`
      : `${tierLabel(rec.source_tier)}: no history movie behind it`;
    li.append(why);
    return li;
  }));
  mark('explain', explained);
}

$('explain-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  renderExplain();
});

async function renderReady(signal) {
  const node = $('node-state');
  try {
    const r = await fetch('/readyz', { signal, cache: 'no-store' });
    if (r.ok) pill(node, 'ok', 'ready');
    else pill(node, 'warn', 'not ready');
  } catch (err) {
    if (err.name !== 'AbortError') pill(node, 'bad', 'unreachable');
  }
}

async function refresh() {
  clearTimeout(timer);
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const q = windowQuery(windowKey, new Date());
  const [rep, tr] = await Promise.allSettled([
    getJSON(`/api/analytics/summary?${q}`, ctl.signal),
    getJSON('/api/admin/training', ctl.signal),
    renderReady(ctl.signal),
    explainOnce ??= renderExplain(),
  ]);
  if (ctl.signal.aborted) return;
  if (rep.reason?.status === 401 || tr.reason?.status === 401) {
    const refused = sessionStorage.getItem(KEY_ITEM);
    sessionStorage.removeItem(KEY_ITEM);
    askForKey(refused ? 'That key was refused. API key (read scope; admin too for training):'
      : 'This node requires an API key (read scope; admin too for training):');
    return;
  }
  const problems = [];
  if (rep.status === 'fulfilled') renderReport(rep.value);
  else problems.push(rep.reason.message);
  if (tr.status === 'fulfilled') renderTraining(tr.value);
  else if (tr.reason?.status === 403) {
    text('train-sub', 'Training progress needs a key with the admin scope.');
  } else problems.push(tr.reason.message);
  const banner = $('banner');
  banner.hidden = problems.length === 0;
  banner.textContent = problems.length ? `Could not refresh: ${problems.join('; ')}` : '';
  if (problems.length === 0) {
    text('updated', `updated ${new Date().toLocaleTimeString('en-GB')}`);
    document.body.dataset.ready = 'true';
  }
  timer = setTimeout(refresh, POLL_MS);
}

function selectWindow(key) {
  windowKey = key;
  for (const b of document.querySelectorAll('[data-window]')) {
    b.setAttribute('aria-pressed', String(b.dataset.window === key));
  }
  if (location.hash.slice(1) !== key) history.replaceState(null, '', `#${key}`);
  refresh();
}

for (const b of document.querySelectorAll('[data-window]')) {
  b.addEventListener('click', () => selectWindow(b.dataset.window));
}
selectWindow(windowKey);
