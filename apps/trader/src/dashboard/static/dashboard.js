// The trader dashboard page (plain browser JavaScript, no build step; charts by uPlot, served
// locally). Loads bounded history from the JSON API, then follows the run over Server-Sent Events.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // The token arrives once in the URL (the server also set a cookie); keep it in memory only for
  // the kill switch's Authorization header, and drop it from the address bar.
  let token = params.get('token');
  if (token) history.replaceState(null, '', location.pathname);
  const MAX_POINTS = 5000;
  const PAGE = 50;
  const state = { symbol: null, mode: null, equity: null, heads: null, oldestId: null, latency: [], live: false, killed: false };
  const charts = {};

  const fmt = (x, d) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(1) + '%');
  const iso = (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  async function api(path) {
    const res = await fetch(path, { headers: token ? { authorization: 'Bearer ' + token } : {}, credentials: 'same-origin' });
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  function width(el) {
    return Math.max(300, el.clientWidth || 600);
  }

  function makeChart(id, series, opts) {
    const el = $(id);
    const data = [[]].concat(series.map(() => []));
    const u = new uPlot(Object.assign({ width: width(el), height: opts.height || 240, series: [{}].concat(series), scales: { x: { time: true } }, axes: [{ stroke: '#8a97a6', grid: { stroke: '#2a3542' } }, { stroke: '#8a97a6', grid: { stroke: '#2a3542' }, size: 70 }], cursor: { drag: { x: true, y: false } } }, opts.extra || {}), data, el);
    charts[id] = u;
    return u;
  }

  function setData(id, cols) {
    charts[id].setData(cols);
    $(id).dataset.points = String(cols[0].length);
  }

  // Keeps live series bounded: above MAX_POINTS every other older point is dropped.
  function thin(obj, keys) {
    if (obj.ts.length <= MAX_POINTS) return;
    const keep = (a) => a.filter((_, i) => i % 2 === 0 || i >= a.length - 100);
    for (const k of keys) obj[k] = keep(obj[k]);
  }

  function drawEquity() {
    const e = state.equity;
    setData('equity', [e.ts.map((t) => t / 1000), e.equity, e.buyHold]);
    $('equity-note').textContent = e.total > e.ts.length ? `(${e.ts.length} of ${e.total} candles, downsampled)` : `(${e.ts.length} candles)`;
  }

  function drawHeads() {
    const h = state.heads;
    setData('heads', [h.ts.map((t) => t / 1000), h.up, h.down, h.volPercentile, h.regimeConfidence]);
    const last = h.regime.length ? h.regime[h.regime.length - 1] : null;
    $('regime').textContent = last ? `regime now: ${last} (${pct(h.regimeConfidence[h.regimeConfidence.length - 1])})` : '';
  }

  function drawLatency() {
    const sel = $('stage');
    const stage = sel.value || 'decision_to_send';
    const h = state.latency.find((s) => s.stage === stage);
    if (!h) return setData('latency', [[], []]);
    // x: bucket index; labels are the bucket's upper bound.
    setData('latency', [h.counts.map((_, i) => i), h.counts]);
    $('latency-note').textContent = `n ${h.n}`;
  }

  function layerList(layers, reasons) {
    if (!layers || !layers.length) return reasons && reasons.length ? '<ul>' + reasons.map((r) => `<li class="veto">${esc(r)}</li>`).join('') + '</ul>' : '<ul><li>no layer ran (hold / flat: going flat is never blocked)</li></ul>';
    return '<ul>' + layers.map((l) => `<li><b>${esc(l.layer)}</b> <span class="${esc(l.action)}">${esc(l.action)}</span> size ${fmt(l.sizeFraction, 3)}${l.reason ? ' — ' + esc(l.reason) : ''}${l.note ? ' <i>(' + esc(l.note) + ')</i>' : ''}</li>`).join('') + '</ul>';
  }

  function decisionRow(d) {
    const tr = document.createElement('tr');
    tr.className = 'row ' + d.action;
    tr.dataset.id = d.id;
    const gate = d.approved === null ? '–' : d.approved ? `<span class="approve">approved</span> ${fmt(d.approvedSize, 3)}` : `<span class="veto">vetoed</span>`;
    const order = d.target ? `${esc(d.target.kind)} → ${esc(d.target.side)} ${fmt(d.target.sizeFraction, 3)}${d.target.status ? ' (' + esc(d.target.status) + ')' : ''}` : '–';
    tr.innerHTML = `<td>${d.id}</td><td>${iso(d.tsMs)}</td><td>${esc(d.symbol)}</td><td class="dec">${esc(d.action)}/${esc(d.side)}</td><td>${fmt(d.confidence, 2)}</td><td>${fmt(d.agreement, 2)}</td><td>${gate}</td><td>${order}</td>`;
    const detail = document.createElement('tr');
    detail.className = 'detail';
    detail.hidden = true;
    detail.innerHTML = `<td colspan="8"><div><b>fusion:</b> ${esc(d.reasoning)}</div><div><b>risk layers:</b>${layerList(d.layers, d.reasons)}</div>${d.target ? `<div><b>stop</b> ${pct(d.target.stopLossPct)} <b>take profit</b> ${pct(d.target.takeProfitPct)}</div>` : ''}</td>`;
    tr.addEventListener('click', () => (detail.hidden = !detail.hidden));
    return [tr, detail];
  }

  function addDecisions(rows, atTop) {
    const tbody = $('decisions').querySelector('tbody');
    const frag = document.createDocumentFragment();
    for (const d of rows) for (const el of decisionRow(d)) frag.appendChild(el);
    if (atTop) {
      tbody.insertBefore(frag, tbody.firstChild);
      // The page keeps the newest PAGE rows live; "older" pages back through the journal.
      while (tbody.children.length > 4 * PAGE) tbody.removeChild(tbody.lastChild);
      const last = tbody.querySelector('tr.row:last-of-type');
      const rowsLeft = tbody.querySelectorAll('tr.row');
      state.oldestId = rowsLeft.length ? Number(rowsLeft[rowsLeft.length - 1].dataset.id) : null;
    } else {
      tbody.appendChild(frag);
      if (rows.length) state.oldestId = rows[rows.length - 1].id;
    }
    $('decisions').dataset.rows = String(tbody.querySelectorAll('tr.row').length);
    $('decisions').dataset.newest = tbody.firstChild ? tbody.firstChild.dataset.id : '';
  }

  function drawPositions(list) {
    const tbody = $('positions').querySelector('tbody');
    const open = list.filter((p) => p.side);
    tbody.innerHTML = open.length
      ? open.map((p) => `<tr><td>${esc(p.symbol)}</td><td class="${esc(p.side)}">${esc(p.side)}</td><td>${fmt(p.qty, 6)}</td><td>${fmt(p.entryPrice, 2)}</td><td>${fmt(p.stopLossPrice, 2)}${p.stopLossPct ? ' (' + pct(p.stopLossPct) + ')' : ''}</td><td>${fmt(p.takeProfitPrice, 2)}${p.takeProfitPct ? ' (' + pct(p.takeProfitPct) + ')' : ''}</td><td>${iso(p.sinceMs)}</td></tr>`).join('')
      : '<tr><td colspan="7" class="muted">flat: no open position</td></tr>';
  }

  function showKilled(reason) {
    state.killed = true;
    $('killed').hidden = false;
    $('killed').title = reason || '';
  }

  async function loadSummary() {
    const s = await api('/api/summary');
    state.mode = s.mode;
    $('mode').textContent = s.mode === 'viewer' ? 'journal viewer (read-only)' : s.mode;
    $('kill').hidden = !s.canKill;
    $('counts').textContent = `candles ${s.counts.candles} · decisions ${s.counts.decisions} · orders ${s.counts.orders} · fills ${s.counts.fills}`;
    $('status').textContent = s.status.length ? s.status.join('\n') : s.lastCandleMs ? 'last candle ' + iso(s.lastCandleMs) : 'no candle yet';
    drawPositions(s.positions);
    if (s.killed.length) showKilled(s.killed.map((k) => k.symbol + ': ' + k.reason).join('; '));
    const sel = $('symbol');
    if (!sel.options.length || sel.options.length !== s.symbols.length) {
      sel.innerHTML = s.symbols.map((x) => `<option>${esc(x)}</option>`).join('');
      if (state.symbol && s.symbols.includes(state.symbol)) sel.value = state.symbol;
    }
    if (!state.symbol) state.symbol = s.symbols[0] || null;
    return s;
  }

  async function loadSeries() {
    if (!state.symbol) return;
    const q = 'symbol=' + encodeURIComponent(state.symbol) + '&points=1500';
    const [eq, heads] = await Promise.all([api('/api/equity?' + q), api('/api/heads?' + q)]);
    state.equity = eq;
    state.heads = heads;
    drawEquity();
    drawHeads();
  }

  async function loadDecisions() {
    const r = await api('/api/decisions?limit=' + PAGE);
    $('decisions').querySelector('tbody').innerHTML = '';
    addDecisions(r.rows, false);
  }

  async function loadLatency() {
    const r = await api('/api/latency');
    state.latency = r.stages;
    const sel = $('stage');
    const names = r.stages.map((s) => s.stage);
    if (sel.options.length !== names.length) {
      const cur = sel.value || 'decision_to_send';
      sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join('');
      sel.value = names.includes(cur) ? cur : names[0] || '';
    }
    drawLatency();
  }

  function onCandle(ev) {
    if (ev.symbol === state.symbol && state.equity) {
      const e = state.equity;
      if (!e.ts.length || ev.ts > e.ts[e.ts.length - 1]) {
        if (!(e.buyHoldUnits > 0)) e.buyHoldUnits = ev.equity / ev.close;
        e.ts.push(ev.ts);
        e.equity.push(ev.equity);
        e.buyHold.push(e.buyHoldUnits * ev.close);
        e.total++;
        thin(e, ['ts', 'equity', 'buyHold']);
        drawEquity();
      }
      const h = state.heads;
      h.ts.push(ev.ts);
      for (const key of ['up', 'down', 'sideways', 'volPercentile', 'volExpected', 'regime', 'regimeConfidence']) h[key].push(ev.heads[key]);
      h.total++;
      thin(h, ['ts', 'up', 'down', 'sideways', 'volPercentile', 'volExpected', 'regime', 'regimeConfidence']);
      drawHeads();
    }
    const d = ev.decision;
    addDecisions([{ id: d.id, symbol: ev.symbol, tsMs: ev.ts, action: d.action, side: d.side, confidence: d.confidence, agreement: d.agreement, sizeFraction: d.sizeFraction, reasoning: d.reasoning, approved: d.approved, approvedSize: d.approvedSize, reasons: d.reasons, layers: d.layers, target: d.target }], true);
    if (ev.killed) showKilled(ev.killReason);
    state.dirty = true;
  }

  function connect() {
    const es = new EventSource('/api/stream');
    es.onopen = () => {
      $('conn').textContent = 'live';
      $('conn').className = 'badge ok';
    };
    es.onerror = () => {
      $('conn').textContent = 'reconnecting';
      $('conn').className = 'badge';
    };
    es.addEventListener('candle', (m) => {
      try {
        onCandle(JSON.parse(m.data));
      } catch (err) {
        console.warn('bad event', err);
      }
    });
  }

  async function kill() {
    if (!confirm('Engage the KILL SWITCH?\n\nEvery position is flattened at the next candle and no new trade is made until the trader is rearmed.')) return;
    if (!token) token = prompt('Access token (printed when the trader started):') || null;
    if (!token) return;
    $('kill').disabled = true;
    try {
      const res = await fetch('/api/kill', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify({ confirm: 'KILL', reason: 'dashboard kill button' }) });
      const body = await res.json().catch(() => ({}));
      $('notice').textContent = res.ok ? body.message : 'kill refused: ' + (body.error || res.status);
      if (!res.ok) $('kill').disabled = false;
    } catch (err) {
      $('notice').textContent = 'kill failed: ' + err.message;
      $('kill').disabled = false;
    }
  }

  async function main() {
    makeChart('equity', [
      { label: 'equity', stroke: '#4aa3ff', width: 2, value: (u, v) => fmt(v, 2) },
      { label: 'buy & hold', stroke: '#8a97a6', width: 1, dash: [4, 4], value: (u, v) => fmt(v, 2) },
    ], {});
    makeChart('heads', [
      { label: 'P(up)', stroke: '#3fb97a', value: (u, v) => pct(v) },
      { label: 'P(down)', stroke: '#e5534b', value: (u, v) => pct(v) },
      { label: 'volatility percentile', stroke: '#e0b341', value: (u, v) => pct(v) },
      { label: 'regime confidence', stroke: '#b48cff', value: (u, v) => pct(v) },
    ], { extra: { scales: { x: { time: true }, y: { range: [0, 1] } } } });
    const bounds = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000];
    makeChart('latency', [{ label: 'candles', stroke: '#4aa3ff', fill: 'rgba(74,163,255,0.35)', paths: uPlot.paths.bars({ size: [0.8] }), points: { show: false } }], {
      height: 200,
      extra: {
        scales: { x: { time: false } },
        axes: [
          { stroke: '#8a97a6', grid: { show: false }, values: (u, vals) => vals.map((i) => (Number.isInteger(i) ? (i < bounds.length ? '≤' + bounds[i] : '>' + bounds[bounds.length - 1]) : '')) },
          { stroke: '#8a97a6', grid: { stroke: '#2a3542' } },
        ],
      },
    });
    $('stage').addEventListener('change', drawLatency);
    $('kill').addEventListener('click', kill);
    $('symbol').addEventListener('change', async (ev) => {
      state.symbol = ev.target.value;
      await loadSeries();
    });
    $('older').addEventListener('click', async () => {
      if (state.oldestId === null) return;
      const r = await api('/api/decisions?limit=' + PAGE + '&before=' + state.oldestId);
      addDecisions(r.rows, false);
      if (r.rows.length < PAGE) $('older').disabled = true;
    });
    window.addEventListener('resize', () => {
      for (const [id, u] of Object.entries(charts)) u.setSize({ width: width($(id)), height: u.height });
    });
    const s = await loadSummary();
    await Promise.all([loadSeries(), loadDecisions(), loadLatency()]);
    if (s.mode !== 'viewer') connect();
    else {
      $('conn').textContent = 'read-only';
    }
    // Counts, positions and latency histograms refresh every few seconds (cheap, bounded queries).
    setInterval(async () => {
      try {
        await loadSummary();
        await loadLatency();
      } catch (err) {
        $('conn').textContent = 'offline';
      }
    }, 3000);
    document.body.dataset.ready = '1';
  }

  main().catch((err) => {
    $('status').textContent = 'dashboard failed to load: ' + err.message;
    console.warn(err);
  });
})();
