/* global document, fetch, setTimeout, uPlot */
// The live dashboard: polls /dashboard/data twice a second and draws the last two minutes.
// Plain script, no build step; uPlot (served by the example from node_modules) draws the charts.
'use strict';

const POLL_MS = 500;
const POINTS = 240;
const $ = (id) => document.getElementById(id);
const fixed = (value, digits = 0) => (value === null || value === undefined ? '–' : Number(value).toFixed(digits));

// Columns: time (s), throughput, queue depth | time, p50, p99.
const load = [[], [], []];
const latency = [[], [], []];

function chart(target, series, data) {
  return new uPlot(
    { width: Math.max(360, target.clientWidth || 420), height: 220, series: [{}, ...series], axes: [{}, { size: 50 }], legend: { live: false } },
    data,
    target,
  );
}
const loadChart = chart($('chart-load'), [
  { label: 'req/s', stroke: '#2f6fd6', width: 2 },
  { label: 'queued', stroke: '#d6762f', width: 2 },
], load);
const latencyChart = chart($('chart-latency'), [
  { label: 'p50', stroke: '#2f9d5a', width: 2 },
  { label: 'p99', stroke: '#c0392b', width: 2 },
], latency);

function push(columns, values) {
  values.forEach((value, i) => columns[i].push(value));
  if (columns[0].length > POINTS) for (const column of columns) column.shift();
}

function renderThreads(pool) {
  const cells = $('thread-cells');
  const threads = pool ? pool.threads : 0;
  const busy = pool ? pool.threads - pool.idleThreads : 0;
  $('threads').textContent = pool ? String(threads) : 'no pool in this mode:';
  $('busy').textContent = pool ? String(busy) : '–';
  while (cells.children.length < threads) cells.append(document.createElement('div'));
  while (cells.children.length > threads) cells.lastChild.remove();
  // The pool reports how many threads are busy, not which: the first `busy` cells are shown busy.
  [...cells.children].forEach((cell, i) => {
    cell.className = i < busy ? 'thread busy' : 'thread';
    cell.textContent = `#${i + 1} ${i < busy ? 'busy' : 'idle'}`;
  });
}

function renderFailures(failures) {
  const body = $('failures');
  body.replaceChildren();
  if (failures.length === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 4;
    cell.className = 'muted';
    cell.textContent = 'none';
    return;
  }
  for (const failure of failures) {
    const row = body.insertRow();
    row.insertCell().textContent = new Date(failure.at).toLocaleTimeString();
    row.insertCell().textContent = String(failure.status);
    const code = row.insertCell();
    code.className = 'code';
    code.textContent = failure.code;
    row.insertCell().textContent = failure.message;
  }
}

function render(data) {
  const { pool, requests } = data;
  $('mode').textContent = data.mode;
  $('status').textContent = data.draining ? 'draining' : 'live';
  $('status').className = data.draining ? 'tag down' : 'tag';
  $('uptime').textContent = fixed(data.uptime);
  $('queued').textContent = pool ? String(pool.queued) : '–';
  $('running').textContent = pool ? String(pool.running) : String(requests.inFlight);
  $('completed').textContent = pool ? String(pool.completed) : '–';
  $('failed').textContent = pool ? String(pool.failed) : '–';
  $('throughput').textContent = fixed(requests.throughput, 1);
  $('p50').textContent = fixed(requests.latency.p50);
  $('p90').textContent = fixed(requests.latency.p90);
  $('p99').textContent = fixed(requests.latency.p99);
  $('loop-p99').textContent = fixed(data.eventLoop.p99, 1);
  $('requests-ok').textContent = String(requests.ok);
  $('requests-failed').textContent = String(requests.failed);
  renderThreads(pool);
  renderFailures(requests.failures);
  const now = Date.now() / 1000;
  push(load, [now, requests.throughput, pool ? pool.queued : 0]);
  push(latency, [now, requests.latency.p50, requests.latency.p99]);
  loadChart.setData(load);
  latencyChart.setData(latency);
}

async function poll() {
  try {
    const response = await fetch('/dashboard/data', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    $('status').textContent = `unreachable (${error.message})`;
    $('status').className = 'tag down';
  }
  setTimeout(poll, POLL_MS);
}
poll();
