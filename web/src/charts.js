// The dashboard's charts: created once, then fed new data on every poll
// without animation, so a refresh never makes the page jump.
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Filler,
  Legend, LineController, LineElement, LinearScale, PointElement, Tooltip,
} from 'chart.js';
import { fmtMs, fmtPct, fmtPeriod, fmtTickMs, modelLabels, tierColor, tierLabel } from './model.js';

Chart.register(
  ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Filler,
  Legend, LineController, LineElement, LinearScale, PointElement, Tooltip,
);

Chart.defaults.font.family = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#64748b';
Chart.defaults.borderColor = '#eef2f7';
Chart.defaults.animation = false;
Chart.defaults.responsive = true;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.tooltip.backgroundColor = '#0f172a';
Chart.defaults.plugins.tooltip.padding = 10;
Chart.defaults.plugins.tooltip.cornerRadius = 8;
Chart.defaults.plugins.tooltip.boxPadding = 4;

const legend = {
  position: 'top',
  align: 'end',
  labels: { usePointStyle: true, pointStyle: 'circle', boxWidth: 7, boxHeight: 7, padding: 14 },
};

const alpha = (hex, a) => hex + Math.round(a * 255).toString(16).padStart(2, '0');

// ctrChart draws CTR per tier (and overall) per period.
export function ctrChart(canvas) {
  const chart = new Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      interaction: { mode: 'index', intersect: false },
      spanGaps: false,
      elements: { line: { cubicInterpolationMode: 'monotone', borderWidth: 2.2 }, point: { radius: 0, hoverRadius: 5 } },
      scales: {
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 18 } },
        y: { beginAtZero: true, grace: '8%', ticks: { callback: (v) => fmtPct(v, 0), maxTicksLimit: 6 } },
      },
      plugins: {
        legend,
        tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${c.parsed.y === null ? '–' : fmtPct(c.parsed.y)}` } },
      },
    },
  });
  return (shaped, granularity) => {
    // Lone points (a tier that served in one period only) need a marker
    // or they would not show at all.
    const sparse = (data) => data.filter((v) => v !== null).length <= 3;
    chart.data.labels = shaped.slots.map((p) => fmtPeriod(p, granularity));
    chart.data.datasets = [
      ...shaped.datasets.map((d) => ({
        label: tierLabel(d.tier),
        data: d.data,
        borderColor: tierColor(d.tier),
        backgroundColor: tierColor(d.tier),
        pointRadius: sparse(d.data) ? 4 : 0,
      })),
      {
        label: 'All tiers',
        data: shaped.overall,
        borderColor: '#0f172a',
        backgroundColor: '#0f172a',
        borderDash: [5, 4],
        borderWidth: 1.6,
        pointRadius: sparse(shaped.overall) ? 3 : 0,
      },
    ];
    chart.update('none');
  };
}

// mixChart is the doughnut of each tier's share of requests.
export function mixChart(canvas) {
  const chart = new Chart(canvas, {
    type: 'doughnut',
    data: { labels: [], datasets: [{ data: [] }] },
    options: {
      cutout: '70%',
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => ` ${c.label}: ${fmtPct(c.parsed)}` } },
      },
    },
  });
  return (rows) => {
    chart.data.labels = rows.map((r) => tierLabel(r.tier));
    chart.data.datasets = [{
      data: rows.map((r) => r.share),
      backgroundColor: rows.map((r) => tierColor(r.tier)),
      borderColor: '#fff',
      borderWidth: 3,
      hoverOffset: 4,
    }];
    chart.update('none');
  };
}

// latencyChart groups p50/p95/p99 with one bar per tier in each group.
export function latencyChart(canvas) {
  const chart = new Chart(canvas, {
    type: 'bar',
    data: { labels: ['p50', 'p95', 'p99'], datasets: [] },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { grid: { display: false } },
        y: { beginAtZero: true, grace: '5%', ticks: { callback: (v, _, ticks) => fmtTickMs(v, ticks), maxTicksLimit: 6 } },
      },
      plugins: {
        legend,
        tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${fmtMs(c.parsed.y)}` } },
      },
    },
  });
  return (bars) => {
    chart.data.datasets = bars.map((b) => ({
      label: tierLabel(b.tier),
      data: b.data,
      backgroundColor: tierColor(b.tier),
      borderRadius: 5,
      maxBarThickness: 34,
      categoryPercentage: 0.72,
      barPercentage: 0.9,
    }));
    chart.update('none');
  };
}

// modelChart draws holdout NDCG@10 per model version beside the
// popularity baseline of the same holdout.
export function modelChart(canvas) {
  let models = [];
  const chart = new Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { offset: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 18 } },
        y: { beginAtZero: true, grace: '12%', ticks: { maxTicksLimit: 6, callback: (v) => v.toFixed(2) } },
      },
      plugins: {
        legend,
        tooltip: {
          callbacks: {
            title: (items) => {
              const m = models[items[0].dataIndex];
              return m ? `${m.version} (${m.status})` : '';
            },
            label: (c) => ` ${c.dataset.label}: ${c.parsed.y === null ? '–' : c.parsed.y.toFixed(3)}`,
          },
        },
      },
    },
  });
  return (history) => {
    models = history.models;
    const serving = models.map((m) => m.status === 'serving');
    chart.data.labels = modelLabels(models);
    chart.data.datasets = [
      {
        label: 'Model NDCG@10',
        data: history.ndcg,
        borderColor: '#6366f1',
        backgroundColor: (ctx) => {
          const { chartArea, ctx: g } = ctx.chart;
          if (!chartArea) return alpha('#6366f1', 0.12);
          const grad = g.createLinearGradient(0, chartArea.top, 0, chartArea.bottom);
          grad.addColorStop(0, alpha('#6366f1', 0.22));
          grad.addColorStop(1, alpha('#6366f1', 0.01));
          return grad;
        },
        fill: true,
        cubicInterpolationMode: 'monotone',
        borderWidth: 2.4,
        pointRadius: serving.map((s) => (s ? 6 : 4)),
        pointBackgroundColor: serving.map((s) => (s ? '#6366f1' : '#fff')),
        pointBorderColor: '#6366f1',
        pointBorderWidth: 2,
      },
      {
        label: 'Popularity baseline',
        data: history.baseline,
        borderColor: '#94a3b8',
        backgroundColor: '#94a3b8',
        borderDash: [6, 5],
        borderWidth: 1.8,
        cubicInterpolationMode: 'monotone',
        pointRadius: 3,
        pointBackgroundColor: '#fff',
      },
    ];
    chart.update('none');
  };
}
