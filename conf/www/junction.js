// Junction's operator page: what is live on this server, refreshed every few seconds.
//
// Plain browser JavaScript, no library and no build step. Everything comes from this server:
//   GET /api/v1/server             version, shards, listeners, uptime (public)
//   GET /metrics                   Prometheus text (public): the traffic graph
//   GET /api/v1/streams            live RTMP streams (admin)
//   GET /api/v1/sip/registrations  SIP bindings (admin)
//   GET /api/v1/gateway/lines      the gateway's logged-in users (admin)
//   GET /api/v1/recordings         recordings (admin); files at /recordings/<id>.flv (admin)
// Admin endpoints answer loopback clients when no http.admin_token is configured, and 401
// without the token when one is. On 401/403 the page asks for the token, keeps it in
// sessionStorage and sends it as "Authorization: Bearer <token>"; until then it stops asking
// the admin endpoints (each refusal counts in junction_http_auth_failures_total) and shows what
// the public ones give. Text from the server is only ever set as text (textContent), never as
// markup.
'use strict';

(() => {
  const REFRESH_MS = 2000;          // how often everything is asked again
  const WINDOW_MS = 5 * 60 * 1000;  // how much history the graph shows
  const TOKEN_KEY = 'junction.adminToken';

  // ---------------------------------------------------------------------------------------
  // Small helpers

  const $ = (id) => document.getElementById(id);

  // el('td', {class: 'num'}, 'text', otherNode): attributes set with setAttribute, children as
  // text nodes or nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // A table: columns [{label, num}], rows of cells; the first cell of each row is its header
  // cell (scope="row") unless rowHeader is false.
  function table(caption, columns, rows, rowHeader = true) {
    const head = el('tr', null, columns.map((c) => el('th', {scope: 'col', class: c.num ? 'num' : null}, c.label)));
    const body = rows.map((cells) => el('tr', null, cells.map((cell, i) => {
      const tag = rowHeader && i === 0 ? 'th' : 'td';
      return el(tag, {scope: tag === 'th' ? 'row' : null, class: columns[i] && columns[i].num ? 'num' : null}, cell);
    })));
    return el('table', null, el('caption', null, caption), el('thead', null, head), el('tbody', null, body));
  }

  function setStatus(id, text, problem = false) {
    const p = $(id);
    p.textContent = text;
    p.className = problem ? 'problem' : 'status';
  }

  // Puts new content into a container. Content is rebuilt on every refresh, so: while the
  // reader has text selected in it (to copy an RTMP URL, say) it is left alone, and a link or
  // button that had the keyboard focus gets it back in the new content.
  function replace(id, ...nodes) {
    const box = $(id);
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && selection.anchorNode && box.contains(selection.anchorNode)) return;
    const active = document.activeElement;
    const key = (e) => `${e.tagName}|${e.getAttribute('href') || ''}|${e.textContent}`;
    const focused = active && active !== box && box.contains(active) ? key(active) : null;
    box.replaceChildren(...nodes.filter((n) => n));
    if (focused) {
      const again = Array.from(box.querySelectorAll('a, button')).find((e) => key(e) === focused);
      if (again) again.focus();
    }
  }

  const dash = '—';
  const str = (v) => (v === undefined || v === null || v === '' ? dash : String(v));

  function duration(seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds)) return dash;
    let s = Math.max(0, Math.round(seconds));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const parts = [];
    if (d) parts.push(d + ' d');
    if (d || h) parts.push(h + ' h');
    if (d || h || m) parts.push(m + ' min');
    parts.push(s + ' s');
    return parts.join(' ');
  }

  function bytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return dash;
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + ' ' + units[i];
  }
  const rate = (n) => (typeof n === 'number' && isFinite(n) ? bytes(n) + '/s' : dash);

  function clock(date) {
    return date.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'});
  }

  // ---------------------------------------------------------------------------------------
  // The admin token

  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  // null: admin endpoints may be asked; otherwise why they are not (until a token is entered).
  let adminLocked = null;

  function showTokenForm(reason) {
    $('admin-token').hidden = false;
    $('admin-token-reason').textContent = reason;
  }

  function updateTokenUi() {
    $('token-in-use').hidden = !token;
    if (!adminLocked) $('admin-token').hidden = true;
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    if (/[^\x21-\x7e]/.test(value)) {
      showTokenForm('A bearer token is printable ASCII without spaces; this one is not.');
      return;
    }
    token = value;
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode: this page only */ }
    $('token-input').value = '';
    adminLocked = null;
    updateTokenUi();
    refreshNow();
  });

  $('token-forget').addEventListener('click', () => {
    token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
    adminLocked = null;
    updateTokenUi();
    refreshNow();
  });

  function authHeaders() {
    return token ? {Authorization: 'Bearer ' + token} : {};
  }

  class HttpError extends Error {
    constructor(status, text) {
      super(text ? text.trim() : 'HTTP ' + status);
      this.status = status;
    }
  }

  async function get(path, admin, as = 'json') {
    const response = await fetch(path, {
      headers: admin ? authHeaders() : {},
      cache: 'no-store',
      credentials: 'same-origin',
    });
    if (!response.ok) {
      let text = '';
      try { text = await response.text(); } catch (e) { text = ''; }
      throw new HttpError(response.status, text.slice(0, 300));
    }
    return as === 'json' ? response.json() : response.text();
  }

  const refused = (e) => e instanceof HttpError && (e.status === 401 || e.status === 403);

  function lockAdmin(e) {
    if (e.status === 401) {
      adminLocked = token
        ? 'The server refused this admin token (401). Enter the token set as http.admin_token.'
        : 'This server has an admin token (http.admin_token): enter it to see streams, ' +
          'registrations, gateway lines and recordings.';
    } else {
      adminLocked = 'The server refused the admin endpoints (403): ' + e.message +
        '. Without http.admin_token they answer only to this machine (a loopback address ' +
        'and Host); with one set, enter it here.';
    }
    showTokenForm(adminLocked);
  }

  const ADMIN_SECTIONS = ['streams', 'sip', 'gateway', 'recordings'];

  function showLocked() {
    for (const s of ADMIN_SECTIONS) {
      setStatus(s + '-status', 'Needs the admin token (see "Admin token" above).', true);
      replace(s + '-table');
    }
  }

  // ---------------------------------------------------------------------------------------
  // Server info

  let serverInfo = null;

  function renderServer(info) {
    serverInfo = info;
    setStatus('server-status', '');
    $('server-status').hidden = true;
    const facts = [
      ['Name', info.name],
      ['Version', info.version],
      ['I/O backend', info.io_backend],
      ['Shards', info.shards],
      ['Uptime', duration(info.uptime_seconds)],
      ['Connections', info.max_connections ? `${str(info.connections)} of at most ${info.max_connections}` : str(info.connections)],
    ];
    replace('server-facts', ...facts.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, str(v))]));
    const rows = (info.listeners || []).map((l) => [str(l.protocol), str(l.transport), el('code', null, str(l.address))]);
    replace('server-listeners', table('Listeners', [{label: 'Protocol'}, {label: 'Transport'}, {label: 'Address'}], rows));
  }

  // ---------------------------------------------------------------------------------------
  // Streams

  // host:port of a listener as a browser on this page reaches it: a wildcard address stands
  // for the host the page was loaded from.
  function reachable(address) {
    const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(address || '');
    if (!m) return null;
    let host = m[1];
    if (host === '0.0.0.0' || host === '[::]' || host === '') host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
    return {host, port: Number(m[2])};
  }

  function listenerBase(scheme, protocol, defaultPort) {
    const l = serverInfo && (serverInfo.listeners || []).find((x) => x.protocol === protocol);
    const at = l && reachable(l.address);
    if (!at) return null;
    return `${scheme}://${at.host}${at.port === defaultPort ? '' : ':' + at.port}`;
  }

  const enc = encodeURIComponent;

  // Ways to play a stream, in the order shown. Each gives {label, url} or null when it does not
  // apply; `link` says whether a browser can follow the URL. A WebRTC (WHEP) endpoint, once the
  // server has one, is one more entry here.
  const PLAYBACK = [
    {label: 'HTTP-FLV', link: true, url: (s) => `/${enc(s.app)}/${enc(s.name)}.flv`},
    {label: 'RTMP', link: false, url: (s) => {
      const base = listenerBase('rtmp', 'rtmp', 1935);
      return base && `${base}/${s.app}/${s.name}`;
    }},
    {label: 'RTMPS', link: false, url: (s) => {
      const base = listenerBase('rtmps', 'rtmps', 443);
      return base && `${base}/${s.app}/${s.name}`;
    }},
  ];

  function playCell(stream) {
    const items = [];
    for (const way of PLAYBACK) {
      const url = way.url(stream);
      if (!url) continue;
      const shown = way.link
        ? el('a', {href: url, class: 'play-' + way.label.toLowerCase()}, url)
        : el('code', {class: 'play-' + way.label.toLowerCase()}, url);
      items.push(el('li', null, way.label + ': ', shown));
    }
    return el('ul', {class: 'play'}, items);
  }

  function publisherText(p) {
    if (!p) return 'none';
    return `${str(p.protocol)} from ${str(p.address)}`;
  }

  function renderStreams(data) {
    const list = (data.streams || []).slice().sort((a, b) =>
      `${a.app}/${a.name}`.localeCompare(`${b.app}/${b.name}`));
    const live = list.filter((s) => s.live).length;
    setStatus('streams-status', list.length === 0
      ? 'No stream is being published. Publish with e.g. ffmpeg -re -i in.mp4 -c copy -f flv ' +
        `${listenerBase('rtmp', 'rtmp', 1935) || 'rtmp://host'}/live/cam`
      : `${live} live, ${list.length - live} waiting for a publisher.`);
    if (list.length === 0) { replace('streams-table'); return; }
    const columns = [{label: 'Stream (app/name)'}, {label: 'State'}, {label: 'Video'}, {label: 'Audio'},
      {label: 'Bitrate', num: true}, {label: 'Players', num: true}, {label: 'Publisher'},
      {label: 'Up for', num: true}, {label: 'Play'}];
    const rows = list.map((s) => [
      `${s.app}/${s.name}`,
      s.live ? 'live' : 'waiting for a publisher',
      str(s.video_codec),
      str(s.audio_codec),
      typeof s.bitrate_kbps === 'number' ? `${Math.round(s.bitrate_kbps)} kbit/s` : dash,
      str(s.players),
      publisherText(s.publisher),
      duration(s.uptime_seconds),
      playCell(s),
    ]);
    replace('streams-table', table('Streams', columns, rows));
  }

  // ---------------------------------------------------------------------------------------
  // SIP registrations, gateway lines, recordings

  function renderRegistrations(data) {
    const aors = data.registrations || [];
    const rows = [];
    for (const r of aors) {
      for (const c of r.contacts || []) {
        rows.push([str(r.aor), el('code', null, str(c.contact)), duration(c.expires), str(c.q),
          str(c.source), str(c.registered_at)]);
      }
    }
    setStatus('sip-status', rows.length === 0 ? 'No SIP phone is registered.'
      : `${aors.length} address${aors.length === 1 ? '' : 'es'} of record, ${rows.length} binding${rows.length === 1 ? '' : 's'}.`);
    replace('sip-table', rows.length === 0 ? null : table('Registrations',
      [{label: 'Address of record'}, {label: 'Contact'}, {label: 'Expires in', num: true}, {label: 'q', num: true},
        {label: 'Source'}, {label: 'Registered at'}], rows));
  }

  function renderLines(data) {
    const lines = (data.lines || []).slice().sort((a, b) => String(a.user).localeCompare(String(b.user)));
    setStatus('gateway-status', lines.length === 0 ? 'No gateway user is logged in.'
      : `${lines.length} line${lines.length === 1 ? '' : 's'}.`);
    replace('gateway-table', lines.length === 0 ? null : table('Lines',
      [{label: 'User'}, {label: 'State'}, {label: 'Peer'}, {label: 'Call-ID'}, {label: 'Recording'}, {label: 'Shard', num: true}],
      lines.map((l) => [str(l.user), str(l.state), str(l.peer), str(l.call_id),
        str(l.recording), str(l.shard)])));
  }

  // A recording's file is an admin endpoint too: with a token, the download goes through fetch
  // (a plain link cannot send the Authorization header).
  async function downloadWithToken(event) {
    if (!token) return;  // no token: the link works as it is (loopback)
    event.preventDefault();
    const a = event.currentTarget;
    try {
      const response = await fetch(a.getAttribute('href'), {headers: authHeaders(), cache: 'no-store'});
      if (!response.ok) throw new HttpError(response.status, await response.text());
      const url = URL.createObjectURL(await response.blob());
      const save = el('a', {href: url, download: a.getAttribute('download') || ''});
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      setStatus('recordings-status', `Download failed: ${e.message}`, true);
    }
  }

  function renderRecordings(data) {
    const list = (data.recordings || []).slice().sort((a, b) => (b.started_ms || 0) - (a.started_ms || 0));
    setStatus('recordings-status', list.length === 0 ? 'No recordings.'
      : `${list.length} recording${list.length === 1 ? '' : 's'}, newest first.`);
    if (list.length === 0) { replace('recordings-table'); return; }
    const rows = list.map((r) => {
      const what = r.kind === 'call' ? `${str(r.from)} → ${str(r.to)}` : str(r.stream);
      const href = typeof r.url === 'string' && r.url.startsWith('/recordings/') ? r.url : `/recordings/${enc(r.id)}.flv`;
      const link = el('a', {href, download: `${r.id}.flv`}, `${r.id}.flv`);
      link.addEventListener('click', downloadWithToken);
      return [str(r.id), str(r.kind), what, str(r.started), duration(r.duration_seconds),
        bytes(r.size_bytes), r.complete ? 'complete' : 'recording now', link];
    });
    replace('recordings-table', table('Recordings',
      [{label: 'Id'}, {label: 'Kind'}, {label: 'Of'}, {label: 'Started'}, {label: 'Length', num: true},
        {label: 'Size', num: true}, {label: 'State'}, {label: 'Download'}], rows));
  }

  // ---------------------------------------------------------------------------------------
  // Metrics: Prometheus text -> sums; samples -> graph

  // {name: {protocol: value}} for the metrics the graph needs, summed over shards.
  const WANTED = ['junction_connections_active', 'junction_bytes_received_total', 'junction_bytes_sent_total'];

  function parseMetrics(text) {
    const out = {};
    for (const name of WANTED) out[name] = {};
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;
    for (const line of text.split('\n')) {
      if (!line || line[0] === '#') continue;
      const m = sample.exec(line);
      if (!m || !(m[1] in out)) continue;
      const value = Number(m[3]);
      if (!isFinite(value)) continue;
      const proto = /(?:^|,)protocol="([^"]*)"/.exec(m[2] || '');
      const key = proto ? proto[1] : '';
      out[m[1]][key] = (out[m[1]][key] || 0) + value;
    }
    return out;
  }

  const total = (byProtocol) => Object.values(byProtocol).reduce((a, b) => a + b, 0);

  // Each sample: {t: ms, conns, in: B/s or null, out: B/s or null, metrics}
  const samples = [];

  function addSample(metrics, t) {
    const prev = samples.length ? samples[samples.length - 1] : null;
    const s = {t, conns: total(metrics.junction_connections_active), in: null, out: null, metrics};
    if (prev && t > prev.t && t - prev.t < 4 * REFRESH_MS + 10000) {
      const dt = (t - prev.t) / 1000;
      const din = total(metrics.junction_bytes_received_total) - total(prev.metrics.junction_bytes_received_total);
      const dout = total(metrics.junction_bytes_sent_total) - total(prev.metrics.junction_bytes_sent_total);
      // A counter that went down: the server restarted; no rate for this step.
      if (din >= 0 && dout >= 0) { s.in = din / dt; s.out = dout / dt; }
    }
    samples.push(s);
    while (samples.length && samples[0].t < t - WINDOW_MS) samples.shift();
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const f of [1, 2, 2.5, 5, 10]) if (v <= f * p) return f * p;
    return 10 * p;
  }

  // One panel of the graph: a frame at (x, y, w, h), series [{key, cls, label}], y labels by fmt.
  // Each series is a <path> with data-points = the points drawn; a step without a value (the
  // first sample's rate, a missed scrape) starts a new segment instead of bridging the gap.
  function panel(g, box, title, series, fmt, now) {
    const {x, y, w, h} = box;
    let max = 0;
    for (const s of samples) for (const se of series) if (typeof s[se.key] === 'number') max = Math.max(max, s[se.key]);
    max = niceMax(max);
    g.append(svg('text', {x, y: y - 6}, title));
    g.append(svg('rect', {class: 'frame', x, y, width: w, height: h}));
    for (const f of [0.5, 1]) {
      const gy = y + h - f * h;
      g.append(svg('line', {class: 'grid', x1: x, y1: gy, x2: x + w, y2: gy}));
      g.append(svg('text', {x: x + w + 4, y: gy + 4}, fmt(max * f)));
    }
    g.append(svg('text', {x: x + w + 4, y: y + h + 4}, fmt(0)));
    g.append(svg('text', {x, y: y + h + 14}, '5 min ago'));
    g.append(svg('text', {x: x + w, y: y + h + 14, 'text-anchor': 'end'}, 'now'));
    for (const se of series) {
      let d = '';
      let points = 0;
      let pen = false;
      let last = null;
      let end = null;
      for (const s of samples) {
        const v = s[se.key];
        if (typeof v !== 'number' || (last !== null && s.t - last > 3 * REFRESH_MS + 2000)) pen = false;
        if (typeof v !== 'number') continue;
        const px = x + w - ((now - s.t) / WINDOW_MS) * w;
        const py = y + h - (v / max) * h;
        d += `${pen ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
        pen = true;
        last = s.t;
        points++;
        end = [px, py];
      }
      g.append(svg('path', {class: `series ${se.cls}`, d: d || 'M0,0', 'data-series': se.key, 'data-points': points,
        visibility: points ? 'visible' : 'hidden'}));
      // The newest point stands out, so that a graph of a few seconds is seen at all.
      if (end) g.append(svg('circle', {class: `series ${se.cls}`, cx: end[0].toFixed(1), cy: end[1].toFixed(1), r: 3}));
    }
  }

  function drawGraph() {
    const graph = $('traffic-graph');
    // Keep <title> and <desc>; redraw the rest.
    for (const child of Array.from(graph.children)) {
      if (child.tagName !== 'title' && child.tagName !== 'desc') child.remove();
    }
    const g = svg('g');
    const now = samples.length ? samples[samples.length - 1].t : Date.now();
    panel(g, {x: 10, y: 20, w: 540, h: 110}, 'Open connections', [{key: 'conns', cls: 'conns'}],
      (v) => String(Math.round(v * 10) / 10), now);
    panel(g, {x: 10, y: 185, w: 540, h: 110}, 'Bandwidth (bytes/s)',
      [{key: 'in', cls: 'in'}, {key: 'out', cls: 'out'}], rate, now);
    graph.append(g);
    graph.setAttribute('data-samples', String(samples.length));
  }

  function renderTraffic() {
    const last = samples[samples.length - 1];
    const prev = samples.length > 1 ? samples[samples.length - 2] : null;
    const haveRate = last && typeof last.in === 'number';
    setStatus('traffic-status', haveRate
      ? `Now: ${last.conns} connections open, ${rate(last.in)} in, ${rate(last.out)} out.`
      : 'Waiting for two samples of /metrics…');
    drawGraph();
    if (!last) return;
    const m = last.metrics;
    // Protocols with a listener, or with traffic (a listener gone since); not every one declared.
    const listening = new Set(((serverInfo && serverInfo.listeners) || []).map((l) => l.protocol));
    const protocols = Object.keys(m.junction_connections_active).sort().filter((p) =>
      listening.has(p) || m.junction_connections_active[p] || m.junction_bytes_received_total[p] ||
      m.junction_bytes_sent_total[p]);
    const dt = haveRate ? (last.t - prev.t) / 1000 : 0;
    const perSecond = (name, p) => (haveRate ? ((m[name][p] || 0) - (prev.metrics[name][p] || 0)) / dt : null);
    const rows = protocols.map((p) => [p, str(m.junction_connections_active[p]),
      rate(perSecond('junction_bytes_received_total', p)), rate(perSecond('junction_bytes_sent_total', p))]);
    rows.push(['all', str(last.conns), rate(last.in), rate(last.out)]);
    replace('traffic-table', table('Latest sample by protocol',
      [{label: 'Protocol'}, {label: 'Open connections', num: true}, {label: 'In', num: true}, {label: 'Out', num: true}], rows));
  }

  // ---------------------------------------------------------------------------------------
  // The refresh loop

  function problemText(what, e) {
    return `Could not read ${what}: ${e instanceof HttpError ? `HTTP ${e.status}: ${e.message}` : e.message}`;
  }

  async function refreshAdmin() {
    if (adminLocked) { showLocked(); return; }
    // Streams first: when it is refused, the others would be too (one refusal, not four).
    try {
      renderStreams(await get('/api/v1/streams', true));
    } catch (e) {
      if (refused(e)) { lockAdmin(e); showLocked(); return; }
      setStatus('streams-status', problemText('/api/v1/streams', e), true);
    }
    $('admin-token').hidden = true;
    const parts = [
      ['/api/v1/sip/registrations', 'sip', renderRegistrations],
      ['/api/v1/gateway/lines', 'gateway', renderLines],
      ['/api/v1/recordings', 'recordings', renderRecordings],
    ];
    await Promise.all(parts.map(async ([path, section, render]) => {
      try {
        render(await get(path, true));
      } catch (e) {
        if (refused(e)) { lockAdmin(e); return; }
        setStatus(section + '-status', problemText(path, e), true);
      }
    }));
    if (adminLocked) showLocked();
  }

  async function refreshServer() {
    try {
      renderServer(await get('/api/v1/server', false));
    } catch (e) {
      $('server-status').hidden = false;
      setStatus('server-status', problemText('/api/v1/server', e), true);
    }
  }

  async function refreshMetrics() {
    try {
      const text = await get('/metrics', false, 'text');
      addSample(parseMetrics(text), Date.now());
      renderTraffic();
    } catch (e) {
      setStatus('traffic-status', problemText('/metrics', e), true);
    }
  }

  let timer = null;
  let running = false;
  let again = false;

  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    clearTimeout(timer);
    try {
      // Server info first: the stream links need its listeners.
      await refreshServer();
      await Promise.all([refreshMetrics(), refreshAdmin()]);
      updateTokenUi();
      setStatus('refresh-status', `Updated ${clock(new Date())}; refreshed every ${REFRESH_MS / 1000} s.`);
    } catch (e) {
      setStatus('refresh-status', `Refresh failed: ${e.message}`, true);
    } finally {
      running = false;
      timer = setTimeout(refresh, again ? 0 : REFRESH_MS);
      again = false;
    }
  }

  function refreshNow() { refresh(); }

  updateTokenUi();
  refresh();
})();
