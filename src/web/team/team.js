// The community team dashboard (/team): the inbox of questions the assistant forwarded, one
// question with its transcript and the team's actions, and for admins feedback, trends and members.
// Plain browser JavaScript, no build step; every call goes to /api/team/* with the member's token.
// Data is only ever put in the page as text (textContent), never as HTML.
(function () {
  'use strict';
  const TOKEN_KEY = 'tlcds.team.token';
  const SEEN_KEY = 'tlcds.team.feedbackSeen';
  const POLL_MS = 15000;
  const RECONNECT_MS = 30000;

  const STATUS = {
    open: 'Mới',
    claimed: 'Đang xử lý',
    escalated: 'Chuyển cán bộ CNTT',
    answered: 'Đã trả lời',
    undeliverable: 'Không gửi được',
    closed: 'Đã đóng',
  };
  const STATUS_ORDER = ['open', 'claimed', 'escalated', 'answered', 'undeliverable', 'closed'];
  const CHANNELS = {
    directline: 'Web chat',
    webchat: 'Web chat',
    zalo: 'Zalo',
    msteams: 'Teams',
    emulator: 'Bot Framework Emulator',
    console: 'Dòng lệnh',
  };
  const REASONS = {
    not_answered: 'Trợ lý chưa trả lời được',
    handoff: 'Người dân muốn gặp người thật',
    out_of_scope: 'Ngoài phạm vi của trợ lý',
  };
  const TOPICS = {
    'dich-vu-cong': 'Dịch vụ công trực tuyến',
    'chu-ky-so': 'Chữ ký số',
    'thanh-toan': 'Thanh toán không dùng tiền mặt',
    'an-toan': 'An toàn trên mạng',
  };
  const ROLES = { admin: 'Cán bộ CNTT (quản trị)', member: 'Thành viên tổ' };
  const FROM = { user: 'Người dân', bot: 'Trợ lý', team: 'Tổ công nghệ số' };
  const DELIVERY = {
    sent: 'Đã gửi',
    pending: 'Đang chờ gửi',
    undeliverable: 'Không gửi được — ngoài thời hạn trả lời của Zalo',
  };
  const UNDELIVERABLE = 'Không gửi được — ngoài thời hạn trả lời của Zalo';

  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    me: null,
    tab: 'inbox',
    filters: { status: '', commune: '', topic: '', q: '', from: '', to: '' },
    detailId: null,
    detail: null,
    known: null, // ids seen in the last inbox load (to announce new questions)
    events: null,
    live: false,
    pollTimer: null,
    reconnectTimer: null,
    inboxTimer: null,
    detailTimer: null,
    listSeq: 0,
    detailSeq: 0,
    liveExtra: {}, // questionId → messages received by SSE and not yet in the loaded transcript
  };

  let feedbackItems = []; // the last 👎 list (admin)

  // ---------- small helpers ----------

  /** Creates an element; `props.text` sets its text, `on*` props add listeners. */
  function h(tag, props, children) {
    const el = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const v = props[key];
        if (v === null || v === undefined || v === false) continue;
        if (key === 'class') el.className = v;
        else if (key === 'text') el.textContent = String(v);
        else if (key.startsWith('on')) el.addEventListener(key.slice(2), v);
        else el.setAttribute(key, v === true ? '' : String(v));
      }
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined || child === false) continue;
      el.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return el;
  }

  function show(el, visible) {
    el.hidden = !visible;
  }

  function setError(el, message) {
    el.textContent = message || '';
    el.hidden = !message;
  }

  function clear(el) {
    el.replaceChildren();
  }

  function label(map, key) {
    if (!key) return '—';
    return map[key] || key;
  }

  function personName(p) {
    if (!p) return '';
    if (typeof p === 'string') return p;
    return p.name || p.id || '';
  }

  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString('vi-VN', {
      hour: '2-digit',
      minute: '2-digit',
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
    });
  }

  function ago(iso) {
    const t = new Date(iso).getTime();
    if (Number.isNaN(t)) return '';
    const min = Math.round((Date.now() - t) / 60000);
    if (min < 1) return 'vừa xong';
    if (min < 60) return min + ' phút trước';
    const hours = Math.round(min / 60);
    if (hours < 24) return hours + ' giờ trước';
    const days = Math.round(hours / 24);
    if (days < 8) return days + ' ngày trước';
    return when(iso);
  }

  function minutes(m) {
    if (m === null || m === undefined || Number.isNaN(Number(m))) return '—';
    const n = Math.round(Number(m));
    if (n < 60) return n + ' phút';
    const hrs = Math.floor(n / 60);
    if (hrs < 48) return hrs + ' giờ ' + (n % 60 ? (n % 60) + ' phút' : '');
    return Math.round(hrs / 24) + ' ngày';
  }

  function percent(x) {
    if (x === null || x === undefined || Number.isNaN(Number(x))) return '—';
    const v = Number(x) <= 1 ? Number(x) * 100 : Number(x);
    return Math.round(v) + '%';
  }

  function toast(message, kind) {
    const el = $('toast');
    el.textContent = message;
    el.className = 'toast' + (kind ? ' ' + kind : '');
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => {
      el.hidden = true;
    }, 5000);
  }

  /** A destructive button asks for a second tap instead of a dialog. */
  function confirmTap(button, question, action) {
    if (button.dataset.armed === '1') {
      delete button.dataset.armed;
      button.textContent = button.dataset.label;
      clearTimeout(button.armTimer);
      action();
      return;
    }
    button.dataset.label = button.textContent;
    button.dataset.armed = '1';
    button.textContent = question;
    button.armTimer = setTimeout(() => {
      delete button.dataset.armed;
      button.textContent = button.dataset.label;
    }, 4000);
  }

  /** Runs an async action with its button disabled, so a double tap does not send twice. */
  async function busy(button, action) {
    if (button) button.disabled = true;
    try {
      return await action();
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---------- the API ----------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', 'Không kết nối được máy chủ. Bạn kiểm tra mạng rồi thử lại.');
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json && json.error) || {};
      const e = new ApiError(res.status, err.code, err.message || res.statusText);
      if (res.status === 401 && state.me) {
        signOut('Phiên đăng nhập không còn hiệu lực (mã sai hoặc đã bị khoá). Bạn đăng nhập lại nhé.');
      }
      throw e;
    }
    return json;
  }

  function explain(e) {
    if (!(e instanceof ApiError)) return 'Có lỗi: ' + (e && e.message ? e.message : String(e));
    if (e.status === 0) return e.message;
    if (e.status === 401) return 'Mã đăng nhập không đúng hoặc đã bị khoá.';
    if (e.status === 403)
      return 'Bạn không có quyền làm việc này (chỉ thành viên của xã/phường đó hoặc cán bộ CNTT).';
    if (e.status === 404) return 'Không tìm thấy (có thể đã bị xoá).';
    if (e.status === 409) return 'Câu hỏi vừa đổi trạng thái (có thể người khác đã xử lý). Đã tải lại.';
    if (e.status === 400) return 'Dữ liệu chưa hợp lệ: ' + e.message;
    return 'Máy chủ báo lỗi (' + e.status + '). Bạn thử lại sau ít phút.';
  }

  const isAdmin = () => Boolean(state.me && state.me.role === 'admin');
  const qlink = (id) => '#/questions/' + encodeURIComponent(id);
  const qpath = (id, action) =>
    '/api/team/questions/' + encodeURIComponent(id) + (action ? '/' + action : '');

  // ---------- sign in / out ----------

  async function signIn(token) {
    state.token = token;
    let me;
    try {
      me = await api('GET', '/api/team/me');
    } catch (e) {
      state.token = null;
      throw e;
    }
    state.me = me;
    localStorage.setItem(TOKEN_KEY, token);
    $('who').textContent =
      (me.name || 'Thành viên') +
      ' · ' +
      label(ROLES, me.role) +
      (me.communes && me.communes.length ? ' · ' + me.communes.join(', ') : '');
    show($('who'), true);
    show($('sign-out'), true);
    show($('tabs'), true);
    for (const el of document.querySelectorAll('[data-admin]')) show(el, isAdmin());
    fillCommuneList(me.communes || []);
    connectEvents();
    schedulePoll();
    route();
  }

  /** `forget` (the "Đăng xuất" button) also drops the current question from the address. */
  function signOut(message, forget) {
    localStorage.removeItem(TOKEN_KEY);
    if (state.events) state.events.close();
    clearTimeout(state.pollTimer);
    clearTimeout(state.reconnectTimer);
    clearTimeout(state.inboxTimer);
    clearTimeout(state.detailTimer);
    Object.assign(state, {
      token: null,
      me: null,
      events: null,
      live: false,
      detailId: null,
      detail: null,
      known: null,
      liveExtra: {},
    });
    // Nothing of the previous session stays in the page.
    for (const id of [
      'list',
      'counts',
      'fb-list',
      'tr-kpis',
      'tr-most',
      'm-list',
      'd-transcript',
      'live-messages',
      'd-badges',
      'd-meta',
      'd-sources',
      'd-group',
      'd-deliveries',
      'd-answer',
      'd-escalation',
      'answer-result',
      'w-list',
    ])
      clear($(id));
    $('d-text').textContent = '';
    feedbackItems = [];
    $('filter-form').reset();
    state.filters = { status: '', commune: '', topic: '', q: '', from: '', to: '' };
    clear(document.querySelector('#tr-communes tbody'));
    show($('m-token'), false);
    $('m-token-value').textContent = '';
    for (const id of ['answer-text', 'escalate-note', 'live-text']) $(id).value = '';
    show($('who'), false);
    show($('sign-out'), false);
    show($('tabs'), false);
    resetKb();
    for (const id of ['inbox', 'detail', 'feedback', 'trends', 'members', 'kb']) show($(id), false);
    show($('signin'), true);
    setError($('signin-error'), message || '');
    $('token').value = '';
    if (forget && location.hash) window.history.replaceState(null, '', location.pathname);
    $('token').focus();
  }

  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    if (!token) {
      setError($('signin-error'), 'Bạn dán mã đăng nhập vào ô trên nhé.');
      return;
    }
    const button = ev.submitter || $('signin-form').querySelector('button');
    busy(button, () => signIn(token)).then(
      () => {
        $('token').value = '';
        setError($('signin-error'), '');
      },
      (e) => setError($('signin-error'), explain(e)),
    );
  });

  $('sign-out').addEventListener('click', () => signOut('', true));

  // ---------- navigation (the hash, so the phone's back button works) ----------

  function route() {
    if (!state.me) return;
    // #/inbox, #/questions/<id> (also the link of the commune webhook), #/feedback, #/trends, #/members,
    // #/kb… (the knowledge console)
    const hash = location.hash.replace(/^#\/?/, '');
    let tab = 'inbox';
    let questionId = null;
    let kbPath = null;
    if (hash.startsWith('questions/')) questionId = decodeURIComponent(hash.slice('questions/'.length));
    else if (['feedback', 'trends', 'members'].includes(hash) && isAdmin()) tab = hash;
    else if ((hash === 'kb' || hash.startsWith('kb/')) && isAdmin()) {
      tab = 'kb';
      kbPath = hash.slice(3);
    }
    state.tab = tab;
    for (const link of document.querySelectorAll('#tabs a')) {
      if (link.dataset.tab === tab) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    show($('signin'), false);
    show($('inbox'), tab === 'inbox');
    show($('feedback'), tab === 'feedback');
    show($('trends'), tab === 'trends');
    show($('members'), tab === 'members');
    show($('kb'), tab === 'kb');
    show($('detail'), tab === 'inbox' && Boolean(questionId));
    document.body.classList.toggle('has-detail', tab === 'inbox' && Boolean(questionId));
    if (tab === 'inbox') {
      loadInbox();
      if (questionId) {
        if (questionId !== state.detailId) openDetail(questionId);
      } else {
        state.detailId = null;
        state.detail = null;
      }
    }
    if (tab === 'feedback') loadFeedback();
    if (tab === 'trends') loadTrends();
    if (tab === 'members') loadMembers();
    if (tab === 'kb') routeKb(kbPath);
  }
  window.addEventListener('hashchange', route);

  // ---------- inbox ----------

  /** A yyyy-mm-dd of the date picker as the instant the local day starts (or ends). */
  function dayBoundary(day, end) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
    if (!m) return '';
    const d = end
      ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999)
      : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return d.toISOString();
  }

  function filterParams() {
    const f = state.filters;
    const p = new URLSearchParams();
    // "Quá hạn" is not a status of the API: it is filtered here, among the open questions.
    if (f.status === 'stale') p.set('status', 'open');
    else if (f.status) p.set('status', f.status);
    for (const key of ['commune', 'topic', 'q']) if (f[key]) p.set(key, f[key]);
    if (f.from) p.set('from', dayBoundary(f.from, false));
    if (f.to) p.set('to', dayBoundary(f.to, true));
    return p;
  }

  function readFilters() {
    state.filters = {
      status: $('f-status').value,
      commune: $('f-commune').value.trim(),
      topic: $('f-topic').value,
      q: $('f-q').value.trim(),
      from: $('f-from').value,
      to: $('f-to').value,
    };
  }

  $('filter-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    readFilters();
    loadInbox();
  });
  $('filter-form').addEventListener('reset', () => {
    setTimeout(() => {
      readFilters();
      loadInbox();
    }, 0);
  });
  for (const id of ['f-status', 'f-topic', 'f-from', 'f-to']) {
    $(id).addEventListener('change', () => {
      readFilters();
      loadInbox();
    });
  }
  let typing = null;
  $('f-q').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      readFilters();
      loadInbox();
    }, 400);
  });
  $('reload').addEventListener('click', () => {
    loadInbox();
    if (state.detailId) openDetail(state.detailId, true);
  });

  function fillCommuneList(names) {
    const list = $('commune-list');
    const have = new Set(Array.from(list.options).map((o) => o.value));
    for (const name of names) {
      if (name && !have.has(name)) {
        have.add(name);
        list.append(h('option', { value: name }));
      }
    }
  }

  async function loadInbox() {
    if (!state.me) return;
    const seq = ++state.listSeq;
    const p = filterParams();
    p.set('grouped', '1');
    let data;
    try {
      data = await api('GET', '/api/team/questions?' + p.toString());
    } catch (e) {
      if (seq === state.listSeq && state.me) setError($('list-error'), explain(e));
      return;
    }
    if (seq !== state.listSeq || !state.me) return;
    setError($('list-error'), '');
    renderCounts((data && data.counts) || {});
    renderList(data || {});
  }

  function renderCounts(counts) {
    const box = $('counts');
    clear(box);
    const total = STATUS_ORDER.reduce((sum, s) => sum + (Number(counts[s]) || 0), 0);
    const chips = [['', 'Tất cả', total]];
    for (const s of STATUS_ORDER) chips.push([s, STATUS[s], Number(counts[s]) || 0]);
    chips.push(['stale', 'Quá hạn', Number(counts.stale) || 0]);
    for (const [value, text, n] of chips) {
      box.append(
        h(
          'button',
          {
            type: 'button',
            class: 'chip st-' + (value || 'all'),
            'aria-pressed': String(state.filters.status === value),
            onclick: () => {
              $('f-status').value = value;
              readFilters();
              loadInbox();
            },
          },
          [text + ' ', h('b', { text: n })],
        ),
      );
    }
  }

  /** Rows of the inbox: each group once (its representative), then questions in no group. */
  function inboxRows(data) {
    const rows = [];
    const grouped = new Set();
    for (const g of data.groups || []) {
      if (!g || !g.representative) continue;
      const ids = g.questionIds || [g.representative.id];
      for (const id of ids) grouped.add(id);
      rows.push({ q: g.representative, count: Number(g.count) || ids.length || 1 });
    }
    for (const q of data.items || []) {
      if (!grouped.has(q.id)) rows.push({ q, count: Number(q.groupSize) || 1 });
    }
    let result = rows;
    if (state.filters.status === 'stale') result = rows.filter((r) => r.q.stale);
    return result.sort((a, b) => String(b.q.createdAt).localeCompare(String(a.q.createdAt)));
  }

  function isUndeliverable(q) {
    return (
      q.status === 'undeliverable' ||
      (q.deliveries || []).some((d) => d && d.status === 'undeliverable' && d.questionId === q.id)
    );
  }

  function badges(q, count) {
    const list = [h('span', { class: 'badge st-' + q.status, text: label(STATUS, q.status) })];
    if (q.stale) list.push(h('span', { class: 'badge stale', text: 'Quá hạn' }));
    if (count > 1) list.push(h('span', { class: 'badge count', text: '×' + count + ' người hỏi' }));
    if (q.takenOver) list.push(h('span', { class: 'badge takeover', text: 'Đang trò chuyện trực tiếp' }));
    return list;
  }

  function renderList(data) {
    const rows = inboxRows(data);
    const list = $('list');
    const known = new Set();
    const communes = [];
    clear(list);
    for (const { q, count } of rows) {
      known.add(q.id);
      if (q.commune) communes.push(q.commune);
      const sub = [q.commune || 'Chưa rõ xã/phường', label(CHANNELS, q.channel), ago(q.createdAt)];
      if (q.topic) sub.push(label(TOPICS, q.topic));
      if (q.assignee) sub.push(personName(q.assignee) + ' nhận xử lý');
      list.append(
        h('li', null, [
          h(
            'a',
            {
              class: 'item' + (q.id === state.detailId ? ' current' : '') + (q.stale ? ' is-stale' : ''),
              href: qlink(q.id),
              'data-id': q.id,
              'data-status': q.status,
            },
            [
              h('span', { class: 'badges' }, badges(q, count)),
              h('span', { class: 'text', text: q.text }),
              h('span', { class: 'sub', text: sub.join(' · ') }),
              isUndeliverable(q) ? h('span', { class: 'warn', text: UNDELIVERABLE }) : null,
            ],
          ),
        ]),
      );
    }
    fillCommuneList(communes);
    show($('list-empty'), rows.length === 0);
    state.known = known;
  }

  // ---------- one question ----------

  function resetDetailForms() {
    for (const id of ['answer-form', 'escalate-form', 'promote-form', 'answer-result']) show($(id), false);
    $('answer-text').value = '';
    $('escalate-note').value = '';
    $('live-text').value = '';
    setError($('act-error'), '');
    show($('promote-result'), false);
  }

  async function openDetail(id, quiet) {
    const switched = id !== state.detailId;
    state.detailId = id;
    const seq = ++state.detailSeq;
    if (switched) {
      state.detail = null;
      resetDetailForms();
      show($('d-card'), false);
      show($('d-context'), false);
      show($('d-actions'), false);
      show($('d-transcript-box'), false);
      show($('live-box'), false);
      show($('d-loading'), true);
      setError($('d-error'), '');
      for (const a of document.querySelectorAll('#list a.item'))
        a.classList.toggle('current', a.dataset.id === id);
    }
    let q;
    try {
      q = await api('GET', qpath(id));
    } catch (e) {
      if (seq !== state.detailSeq) return;
      show($('d-loading'), false);
      if (!quiet || switched) setError($('d-error'), explain(e));
      return;
    }
    if (seq !== state.detailSeq || state.detailId !== id) return;
    show($('d-loading'), false);
    setError($('d-error'), '');
    state.detail = q;
    const inTranscript = new Set((q.transcript || []).map(msgKey));
    state.liveExtra[id] = (state.liveExtra[id] || []).filter((m) => !inTranscript.has(msgKey(m)));
    renderDetail(q);
    if (switched) $('d-text').focus({ preventScroll: false });
  }

  function metaRow(dl, term, value) {
    if (value === null || value === undefined || value === '') return;
    dl.append(h('div', null, [h('dt', { text: term }), h('dd', { text: value })]));
  }

  function renderDetail(q) {
    show($('d-card'), true);
    const badgeBox = $('d-badges');
    clear(badgeBox);
    badgeBox.append(...badges(q, Number(q.groupSize) || (q.group ? q.group.length : 1)));
    $('d-text').textContent = q.text;
    $('d-text').setAttribute('tabindex', '-1');

    const undeliverable = isUndeliverable(q);
    $('d-undeliverable').textContent = UNDELIVERABLE;
    show($('d-undeliverable'), undeliverable);

    const dl = $('d-meta');
    clear(dl);
    metaRow(dl, 'Xã/phường', q.commune || 'Chưa rõ');
    metaRow(dl, 'Kênh', label(CHANNELS, q.channel));
    metaRow(dl, 'Chủ đề', q.topic ? label(TOPICS, q.topic) : 'Chưa rõ');
    metaRow(dl, 'Lý do chuyển', q.reason ? label(REASONS, q.reason) : '');
    metaRow(
      dl,
      'Độ tin cậy của trợ lý',
      q.confidence === null || q.confidence === undefined ? 'Không có' : percent(q.confidence),
    );
    metaRow(dl, 'Người nhận xử lý', q.assignee ? personName(q.assignee) : 'Chưa có');
    metaRow(dl, 'Gửi lúc', when(q.createdAt) + ' (' + ago(q.createdAt) + ')');
    if (q.updatedAt && q.updatedAt !== q.createdAt) metaRow(dl, 'Cập nhật', when(q.updatedAt));

    const sources = $('d-sources');
    clear(sources);
    for (const s of q.sources || []) {
      const score = typeof s.score === 'number' ? ' · điểm ' + s.score.toFixed(2) : '';
      sources.append(
        h('li', null, [
          h('span', { text: s.title || s.file || String(s) }),
          h('small', { text: (s.file || '') + score }),
        ]),
      );
    }
    show($('d-sources-box'), (q.sources || []).length > 0);

    const answer = $('d-answer');
    clear(answer);
    if (q.answer && q.answer.text) {
      answer.append(
        h('h3', { text: 'Câu trả lời của tổ' }),
        h('p', { class: 'pre', text: q.answer.text }),
        h('small', { text: [personName(q.answer.by), when(q.answer.at)].filter(Boolean).join(' · ') }),
      );
    }
    show(answer, Boolean(q.answer && q.answer.text));

    const note = $('d-escalation');
    clear(note);
    if (q.escalationNote) {
      note.append(
        h('h3', { text: 'Ghi chú chuyển cán bộ CNTT' }),
        h('p', { class: 'pre', text: q.escalationNote }),
      );
    }
    show(note, Boolean(q.escalationNote));

    renderDeliveries($('d-deliveries'), q.deliveries || [], q);
    show($('d-deliveries-box'), (q.deliveries || []).length > 0);

    const others = (q.group || []).filter((g) => g && g.id !== q.id);
    const group = $('d-group');
    clear(group);
    for (const g of others) {
      group.append(
        h('li', null, [
          h('a', { href: qlink(g.id) }, [
            h('span', { class: 'badges' }, badges(g, 1)),
            h('span', { class: 'text', text: g.text }),
            h('span', {
              class: 'sub',
              text: [g.commune || 'Chưa rõ xã/phường', label(CHANNELS, g.channel), ago(g.createdAt)].join(
                ' · ',
              ),
            }),
          ]),
        ]),
      );
    }
    $('d-group-title').textContent = 'Cùng câu hỏi: ×' + (others.length + 1) + ' người hỏi';
    show($('d-group-box'), others.length > 0);
    show($('d-context'), others.length > 0 || (q.sources || []).length > 0);

    renderActions(q);
    renderTranscript(q);
    renderLiveBox(q);
  }

  function questionById(id) {
    const q = state.detail;
    if (!q) return null;
    if (q.id === id) return q;
    return (q.group || []).find((g) => g && g.id === id) || null;
  }

  function renderDeliveries(ul, deliveries, q) {
    clear(ul);
    for (const d of deliveries) {
      const target = questionById(d.questionId) || (q && q.id === d.questionId ? q : null);
      const where = target
        ? label(CHANNELS, target.channel) + ' · ' + (target.commune || 'chưa rõ xã/phường')
        : 'câu ' + d.questionId;
      ul.append(
        h('li', { class: 'delivery ' + (d.status || '') }, [
          h('b', { text: label(DELIVERY, d.status) }),
          ' — ' + where + (target && target.id === (q && q.id) ? ' (người hỏi câu này)' : ''),
        ]),
      );
    }
  }

  function renderActions(q) {
    const s = q.status;
    show($('d-actions'), true);
    show($('act-claim'), ['open', 'escalated', 'undeliverable'].includes(s) && !mine(q));
    show($('act-answer'), ['open', 'claimed', 'escalated', 'undeliverable'].includes(s));
    show($('act-escalate'), ['open', 'claimed'].includes(s));
    show($('act-takeover'), !q.takenOver && s !== 'closed');
    show($('act-handback'), Boolean(q.takenOver));
    show($('act-close'), s !== 'closed');
    show($('act-promote'), isAdmin());
  }

  function mine(q) {
    return Boolean(q.assignee && state.me && q.assignee.id === state.me.id && q.status === 'claimed');
  }

  const msgKey = (m) => (m.from || '') + '|' + (m.text || '') + '|' + (m.at || '');

  /** The loaded transcript and the messages received since by SSE, oldest first. */
  function conversation(q) {
    const all = (q.transcript || []).concat(state.liveExtra[q.id] || []);
    return all
      .map((m, i) => ({ m, i }))
      .sort((a, b) => String(a.m.at || '').localeCompare(String(b.m.at || '')) || a.i - b.i)
      .map((x) => x.m);
  }

  // During a takeover the live box shows the conversation; otherwise the transcript box does.
  function renderTranscript(q) {
    const ol = $('d-transcript');
    clear(ol);
    const messages = conversation(q);
    for (const m of messages) ol.append(messageItem(m));
    show($('d-transcript-box'), !q.takenOver && messages.length > 0);
  }

  function messageItem(m) {
    return h('li', { class: 'msg from-' + (m.from || 'user') }, [
      h('span', { class: 'who', text: label(FROM, m.from) + (m.at ? ' · ' + when(m.at) : '') }),
      h('span', { class: 'pre', text: m.text || '' }),
    ]);
  }

  function renderLiveBox(q) {
    show($('live-box'), Boolean(q.takenOver));
    const ol = $('live-messages');
    clear(ol);
    if (!q.takenOver) return;
    for (const m of conversation(q)) ol.append(messageItem(m));
    ol.scrollTop = ol.scrollHeight;
  }

  // Actions

  async function act(button, action, body, okMessage) {
    setError($('act-error'), '');
    const id = state.detailId;
    try {
      const result = await busy(button, () => api('POST', qpath(id, action), body === undefined ? {} : body));
      if (okMessage) toast(okMessage, 'ok');
      return result;
    } catch (e) {
      setError($('act-error'), explain(e));
      return undefined;
    } finally {
      if (state.detailId === id) openDetail(id, true);
      loadInbox();
    }
  }

  $('act-claim').addEventListener('click', (ev) =>
    act(ev.currentTarget, 'claim', {}, 'Bạn đã nhận xử lý câu này.'),
  );

  $('act-answer').addEventListener('click', () => {
    show($('escalate-form'), false);
    show($('answer-result'), false);
    show($('answer-form'), true);
    $('answer-text').focus();
  });

  $('answer-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $('answer-text').value.trim();
    if (!text) {
      setError($('act-error'), 'Bạn viết câu trả lời trước khi gửi nhé.');
      $('answer-text').focus();
      return;
    }
    const q = state.detail;
    const result = await act(ev.submitter, 'answer', { text });
    if (!result) return;
    $('answer-text').value = '';
    show($('answer-form'), false);
    showAnswerResult(result, q);
  });

  function showAnswerResult(result, q) {
    const box = $('answer-result');
    clear(box);
    const delivered = (result && result.delivered) || [];
    const ul = h('ul', { class: 'deliveries' });
    renderDeliveries(ul, delivered, q);
    const failed = delivered.filter((d) => d.status === 'undeliverable').length;
    const reached = delivered.length - failed;
    const title =
      failed === 0
        ? 'Đã gửi câu trả lời'
        : reached > 0
          ? 'Đã gửi câu trả lời cho ' + reached + '/' + delivered.length + ' người hỏi'
          : 'Chưa gửi được câu trả lời';
    box.className = 'card' + (failed ? ' has-failed' : '');
    box.append(
      h('h3', { text: title }),
      delivered.length ? ul : h('p', { text: 'Câu trả lời đã được lưu.' }),
      failed
        ? h('p', {
            class: 'hint',
            text: 'Câu trả lời đã được lưu. Khi người dân nhắn lại trên Zalo, bạn bấm "Trả lời" để gửi lại.',
          })
        : null,
    );
    show(box, true);
    toast(title + '.', failed ? 'bad' : 'ok');
  }

  $('act-escalate').addEventListener('click', () => {
    show($('answer-form'), false);
    show($('escalate-form'), true);
    $('escalate-note').focus();
  });

  $('escalate-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const note = $('escalate-note').value.trim();
    if (!note) {
      setError($('act-error'), 'Bạn ghi vài chữ để cán bộ CNTT biết cần giúp gì nhé.');
      $('escalate-note').focus();
      return;
    }
    const result = await act(ev.submitter, 'escalate', { note }, 'Đã chuyển lên cán bộ CNTT.');
    if (!result) return;
    $('escalate-note').value = '';
    show($('escalate-form'), false);
  });

  $('act-close').addEventListener('click', (ev) => {
    const button = ev.currentTarget;
    confirmTap(button, 'Bấm lần nữa để đóng', () => act(button, 'close', {}, 'Đã đóng câu hỏi.'));
  });

  $('act-takeover').addEventListener('click', async (ev) => {
    const result = await act(
      ev.currentTarget,
      'takeover',
      {},
      'Bạn đang trò chuyện trực tiếp; trợ lý tạm im lặng.',
    );
    if (result) $('live-text').focus();
  });

  $('act-handback').addEventListener('click', (ev) =>
    act(ev.currentTarget, 'handback', {}, 'Đã trả cuộc trò chuyện lại cho trợ lý.'),
  );

  $('live-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $('live-text').value.trim();
    if (!text) return;
    const id = state.detailId;
    setError($('act-error'), '');
    let result;
    try {
      result = await busy(ev.submitter, () => api('POST', qpath(id, 'messages'), { text }));
    } catch (e) {
      setError($('act-error'), explain(e));
      if (e.status === 409) openDetail(id, true);
      return;
    }
    $('live-text').value = '';
    if (result && result.status === 'undeliverable') toast(UNDELIVERABLE, 'bad');
    // The transcript now holds the message (it also arrives as an SSE `message` event).
    if (state.detailId === id) openDetail(id, true);
  });
  // Enter sends, Shift+Enter is a new line (on a phone the keyboard's return inserts a line).
  $('live-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('live-form').requestSubmit();
    }
  });

  for (const button of document.querySelectorAll('[data-cancel]')) {
    button.addEventListener('click', () => {
      show(button.closest('form'), false);
      setError($('act-error'), '');
    });
  }

  // Promote (admin)

  $('act-promote').addEventListener('click', () => {
    const q = state.detail;
    if (!q) return;
    const question = q.text || '';
    const paraphrases = [];
    for (const g of q.group || []) {
      const t = (g.text || '').trim();
      if (t && t !== question.trim() && !paraphrases.includes(t)) paraphrases.push(t);
    }
    $('p-question').value = question;
    $('p-answer').value = (q.answer && q.answer.text) || $('answer-text').value.trim();
    $('p-paraphrases').value = paraphrases.join('\n');
    show($('promote-result'), false);
    show($('promote-form'), true);
    $('p-question').focus();
  });

  $('promote-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const question = $('p-question').value.trim();
    const answer = $('p-answer').value.trim();
    const paraphrases = $('p-paraphrases')
      .value.split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!question || !answer) {
      setError($('act-error'), 'Cần có câu hỏi và câu trả lời.');
      return;
    }
    const result = await act(
      ev.submitter,
      'promote',
      { question, answer, paraphrases },
      'Đã đưa vào Hỏi đáp; kho tri thức đang được cập nhật.',
    );
    if (!result) return;
    const out = $('promote-result');
    out.className = 'banner ok';
    out.textContent =
      'Đã lưu ' +
      (result.file ? 'knowledge/' + String(result.file).replace(/^knowledge\//, '') : 'mục Hỏi đáp') +
      (result.indexVersion ? ' · chỉ mục ' + result.indexVersion : '') +
      '. Trợ lý dùng mục này ngay khi chỉ mục mới sẵn sàng.';
    show(out, true);
  });

  // ---------- live updates: SSE, with polling when it is not connected ----------

  function setLive(live) {
    state.live = live;
    $('live').textContent = live ? '● Cập nhật trực tiếp' : '↻ Tự tải lại mỗi 15 giây';
    $('live').classList.toggle('on', live);
  }

  function connectEvents() {
    clearTimeout(state.reconnectTimer);
    if (state.events) state.events.close();
    state.events = null;
    setLive(false);
    if (typeof EventSource === 'undefined' || !state.token) return;
    const es = new EventSource('/api/team/events?token=' + encodeURIComponent(state.token));
    state.events = es;
    es.addEventListener('open', () => setLive(true));
    es.addEventListener('error', () => {
      if (state.events !== es) return;
      setLive(false);
      // The browser retries by itself unless the server refused (e.g. 401): then retry later.
      if (es.readyState === EventSource.CLOSED) {
        state.events = null;
        state.reconnectTimer = setTimeout(() => {
          if (state.me) connectEvents();
        }, RECONNECT_MS);
      }
    });
    es.addEventListener('question', (ev) => onQuestionEvent(parse(ev.data)));
    es.addEventListener('message', (ev) => onMessageEvent(parse(ev.data)));
  }

  function parse(data) {
    try {
      return JSON.parse(data);
    } catch {
      return null;
    }
  }

  function onQuestionEvent(q) {
    if (!q || !q.id || !state.me) return;
    const fresh = Date.now() - Date.parse(q.createdAt) < 5 * 60000;
    if (state.known && !state.known.has(q.id) && q.status === 'open' && fresh) {
      state.known.add(q.id);
      toast('Câu hỏi mới' + (q.commune ? ' từ ' + q.commune : '') + ': ' + String(q.text || '').slice(0, 80));
    }
    if (state.tab === 'inbox') {
      clearTimeout(state.inboxTimer);
      state.inboxTimer = setTimeout(loadInbox, 300);
    }
    const d = state.detail;
    if (d && (d.id === q.id || (q.groupId && d.groupId === q.groupId))) {
      clearTimeout(state.detailTimer);
      state.detailTimer = setTimeout(() => {
        if (state.detailId === d.id) openDetail(d.id, true);
      }, 300);
    }
  }

  function onMessageEvent(m) {
    if (!m || !m.questionId || !state.me) return;
    const msg = { from: m.from || 'user', text: m.text || '', at: m.at || new Date().toISOString() };
    const d = state.detail;
    const loaded = d && d.id === m.questionId ? (d.transcript || []).concat(state.liveExtra[d.id] || []) : [];
    if (loaded.some((x) => msgKey(x) === msgKey(msg))) return;
    (state.liveExtra[m.questionId] = state.liveExtra[m.questionId] || []).push(msg);
    if (d && d.id === m.questionId) {
      renderLiveBox(d);
      renderTranscript(d);
    } else if (msg.from === 'user') {
      toast('Người dân vừa nhắn: ' + msg.text.slice(0, 80));
    }
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(() => {
      if (!state.me) return;
      if (!state.live) {
        if (state.tab === 'inbox') loadInbox();
        if (state.detailId) openDetail(state.detailId, true);
      }
      schedulePoll();
    }, POLL_MS);
  }

  // ---------- CSV export ----------

  $('export').addEventListener('click', async (ev) => {
    ev.preventDefault();
    const link = ev.currentTarget;
    if (link.getAttribute('aria-busy') === 'true') return;
    link.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch('/api/team/questions.csv?' + filterParams().toString(), {
        headers: { Authorization: 'Bearer ' + state.token },
        cache: 'no-store',
      });
      if (!res.ok) throw new ApiError(res.status, '', res.statusText);
      const blob = await res.blob();
      const url = URL.createObjectURL(new Blob([blob], { type: 'text/csv;charset=utf-8' }));
      const a = h('a', {
        href: url,
        download: 'cau-hoi-to-cong-nghe-so-' + new Date().toISOString().slice(0, 10) + '.csv',
      });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      if (e.status === 401) signOut('Phiên đăng nhập không còn hiệu lực. Bạn đăng nhập lại nhé.');
      else toast('Không tải được CSV. ' + explain(e), 'bad');
    } finally {
      link.removeAttribute('aria-busy');
    }
  });

  // ---------- admin: 👎 feedback ----------

  function seenFeedback() {
    try {
      return new Set(JSON.parse(localStorage.getItem(SEEN_KEY) || '[]'));
    } catch {
      return new Set();
    }
  }

  function markSeen(id, seen) {
    const set = seenFeedback();
    if (seen) set.add(id);
    else set.delete(id);
    localStorage.setItem(SEEN_KEY, JSON.stringify(Array.from(set).slice(-500)));
  }

  async function loadFeedback() {
    try {
      const data = await api('GET', '/api/team/feedback?helpful=false');
      feedbackItems = (data && (data.items || data)) || [];
      setError($('fb-error'), '');
    } catch (e) {
      setError($('fb-error'), explain(e));
      return;
    }
    renderFeedback();
  }

  function renderFeedback() {
    const seen = seenFeedback();
    const hideSeen = $('fb-hide-seen').checked;
    const list = $('fb-list');
    clear(list);
    let shown = 0;
    for (const f of feedbackItems) {
      const id = String(f.id);
      const isSeen = seen.has(id);
      if (hideSeen && isSeen) continue;
      shown++;
      const sources = (f.sources || [])
        .map((s) => (typeof s === 'string' ? s : s.title || s.file))
        .filter(Boolean);
      list.append(
        h('li', { class: 'card fb' + (isSeen ? ' seen' : '') }, [
          h('p', { class: 'text', text: f.question || '(không có câu hỏi)' }),
          f.reason ? h('p', { class: 'note', text: 'Lý do: ' + f.reason }) : null,
          sources.length ? h('p', { class: 'sub', text: 'Nguồn đã dùng: ' + sources.join('; ') }) : null,
          h('p', { class: 'sub', text: when(f.createdAt) }),
          h('button', {
            type: 'button',
            class: 'small',
            text: isSeen ? 'Đánh dấu chưa xem' : 'Đã xem',
            onclick: () => {
              markSeen(id, !isSeen);
              renderFeedback();
            },
          }),
        ]),
      );
    }
    show($('fb-empty'), shown === 0);
  }
  $('fb-hide-seen').addEventListener('change', renderFeedback);
  $('fb-reload').addEventListener('click', loadFeedback);

  // ---------- admin: trends ----------

  async function loadTrends() {
    let t;
    try {
      t = (await api('GET', '/api/team/trends')) || {};
      setError($('tr-error'), '');
    } catch (e) {
      setError($('tr-error'), explain(e));
      return;
    }
    const kpis = $('tr-kpis');
    clear(kpis);
    const fb = t.feedback || {};
    for (const [value, text] of [
      [percent(t.answeredRate), 'câu đã được trả lời'],
      [minutes(t.medianMinutesToAnswer), 'thời gian trả lời (trung vị)'],
      ['👍 ' + (Number(fb.up) || 0), 'người dân thấy hữu ích'],
      ['👎 ' + (Number(fb.down) || 0), 'chưa hữu ích'],
    ]) {
      kpis.append(h('div', { class: 'kpi' }, [h('b', { text: value }), h('span', { text: text })]));
    }
    const most = $('tr-most');
    clear(most);
    const top = t.mostAskedThisWeek || [];
    const max = Math.max(1, ...top.map((m) => Number(m.count) || 0));
    for (const m of top) {
      const bar = h('span', { class: 'bar' });
      bar.style.width = Math.round(((Number(m.count) || 0) / max) * 100) + '%';
      most.append(
        h('li', null, [
          h('span', { class: 'text', text: m.text }),
          h('span', { class: 'n', text: '×' + m.count }),
          bar,
        ]),
      );
    }
    if (!top.length) most.append(h('li', { class: 'empty', text: 'Tuần này chưa có câu nào.' }));
    const tbody = document.querySelector('#tr-communes tbody');
    clear(tbody);
    const rows = t.perCommune || [];
    for (const c of rows) {
      tbody.append(
        h('tr', null, [
          h('th', { scope: 'row', text: c.commune || 'Chưa rõ' }),
          h('td', { text: Number(c.open) || 0 }),
          h('td', { text: Number(c.answered) || 0 }),
        ]),
      );
    }
    if (!rows.length)
      tbody.append(h('tr', null, [h('td', { colspan: '3', class: 'empty', text: 'Chưa có dữ liệu.' })]));
    fillCommuneList(rows.map((c) => c.commune));
  }

  // ---------- admin: members ----------

  async function loadMembers() {
    let data;
    try {
      data = await api('GET', '/api/team/members');
      setError($('m-error'), '');
    } catch (e) {
      setError($('m-error'), explain(e));
      return;
    }
    const members = Array.isArray(data) ? data : (data && (data.items || data.members)) || [];
    const list = $('m-list');
    clear(list);
    for (const m of members) {
      const disabled = Boolean(m.disabled || m.disabledAt || m.active === false || m.status === 'disabled');
      fillCommuneList(m.communes || []);
      list.append(
        h('li', { class: 'card member' + (disabled ? ' seen' : '') }, [
          h('p', { class: 'text' }, [
            h('b', { text: m.name || m.id }),
            disabled ? h('span', { class: 'badge st-closed', text: 'Đã khoá' }) : null,
          ]),
          h('p', {
            class: 'sub',
            text:
              label(ROLES, m.role) + (m.communes && m.communes.length ? ' · ' + m.communes.join(', ') : ''),
          }),
          m.createdAt ? h('p', { class: 'sub', text: 'Thêm lúc ' + when(m.createdAt) }) : null,
          disabled || (state.me && m.id === state.me.id)
            ? null
            : h('button', {
                type: 'button',
                class: 'small danger',
                text: 'Khoá',
                onclick: (ev) => {
                  const button = ev.currentTarget;
                  confirmTap(button, 'Bấm lần nữa để khoá', () =>
                    busy(button, () =>
                      api('POST', '/api/team/members/' + encodeURIComponent(m.id) + '/disable', {}),
                    )
                      .then(() =>
                        toast(
                          'Đã khoá ' + (m.name || m.id) + '. Mã đăng nhập của họ không còn dùng được.',
                          'ok',
                        ),
                      )
                      .catch((e) => setError($('m-error'), explain(e)))
                      .finally(loadMembers),
                  );
                },
              }),
        ]),
      );
    }
    if (!members.length) list.append(h('li', { class: 'empty', text: 'Chưa có thành viên nào.' }));
    loadWebhooks();
  }

  async function loadWebhooks() {
    let data;
    try {
      data = await api('GET', '/api/team/webhooks');
    } catch {
      return; // the list is a convenience: the form still works
    }
    const ul = $('w-list');
    clear(ul);
    for (const w of (data && data.items) || []) {
      fillCommuneList([w.commune]);
      ul.append(h('li', null, [h('b', { text: w.commune }), ' — ' + w.url]));
    }
  }

  $('m-add').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('m-name').value.trim();
    const role = $('m-role').value;
    const communes = $('m-communes')
      .value.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!name) {
      setError($('m-error'), 'Bạn nhập họ tên thành viên.');
      $('m-name').focus();
      return;
    }
    if (role === 'member' && !communes.length) {
      setError($('m-error'), 'Thành viên tổ cần ít nhất một xã/phường.');
      $('m-communes').focus();
      return;
    }
    let result;
    try {
      result = await busy(ev.submitter, () => api('POST', '/api/team/members', { name, role, communes }));
      setError($('m-error'), '');
    } catch (e) {
      setError($('m-error'), explain(e));
      return;
    }
    $('m-add').reset();
    $('m-token-label').textContent =
      'Mã đăng nhập của ' + ((result.member && result.member.name) || name) + ':';
    $('m-token-value').textContent = result.token || '';
    show($('m-token'), true);
    $('m-token').scrollIntoView({ block: 'nearest' });
    loadMembers();
  });

  $('m-token-copy').addEventListener('click', () => {
    const token = $('m-token-value').textContent;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(token).then(
        () => toast('Đã sao chép mã.', 'ok'),
        () => toast('Không sao chép được; bạn chọn và sao chép mã bằng tay.', 'bad'),
      );
    } else {
      toast('Bạn chọn và sao chép mã bằng tay.');
    }
  });
  $('m-token-done').addEventListener('click', () => {
    $('m-token-value').textContent = '';
    show($('m-token'), false);
  });

  $('m-webhook').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const commune = $('w-commune').value.trim();
    const url = $('w-url').value.trim();
    const out = $('w-result');
    if (!commune || (url && !/^https?:\/\/\S+$/i.test(url))) {
      out.className = 'error';
      out.textContent = 'Cần tên xã/phường và một địa chỉ bắt đầu bằng http:// hoặc https://.';
      show(out, true);
      return;
    }
    try {
      await busy(ev.submitter, () =>
        api('PUT', '/api/team/communes/' + encodeURIComponent(commune) + '/webhook', { url: url || null }),
      );
    } catch (e) {
      out.className = 'error';
      out.textContent = explain(e);
      show(out, true);
      return;
    }
    out.className = 'banner ok';
    out.textContent = url ? 'Đã lưu webhook cho ' + commune + '.' : 'Đã bỏ webhook của ' + commune + '.';
    show(out, true);
    loadWebhooks();
  });

  // ---------- admin: the knowledge console (issue 8) ----------
  // #/kb (documents), #/kb/doc/<id>, #/kb/hit, #/kb/versions, #/kb/synonyms, #/kb/audit.

  const KINDS = { plan: 'Kế hoạch', guide: 'Hướng dẫn', faq: 'Hỏi đáp', flow: 'Luồng', other: 'Khác' };
  const KIND_ORDER = ['plan', 'guide', 'faq', 'flow', 'other'];
  const KB_TOPICS = {
    'dich-vu-cong': 'Dịch vụ công trực tuyến',
    vneid: 'VNeID',
    'chu-ky-so': 'Chữ ký số',
    'thanh-toan': 'Thanh toán không dùng tiền mặt',
    'an-toan': 'An toàn trên mạng',
    'co-ban': 'Kỹ năng số cơ bản',
    'to-cong-nghe-so': 'Tổ công nghệ số cộng đồng',
    'ke-hoach': 'Kế hoạch chuyển đổi số',
  };
  const LEGS = { lexical: 'Từ khóa', vector: 'Ngữ nghĩa', faq: 'Hỏi đáp' };
  const LEG_ORDER = ['lexical', 'vector', 'faq'];
  const KB_VIEWS = ['docs', 'doc', 'hit', 'versions', 'synonyms', 'audit'];
  const JOB_POLL_MS = 2000;
  const UPLOAD_TYPES = /\.(pdf|docx|html?|md|txt)$/i;
  const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

  const kb = {
    view: 'docs',
    docs: null, // the last GET /kb/documents
    docsSeq: 0,
    docId: null,
    doc: null,
    docSeq: 0,
    editorDirty: false,
    hit: null, // { q, data } of the last hit test
    hitSeq: 0,
    leg: 'lexical',
    versions: null,
    current: null,
    job: null,
    watching: false, // a change is being indexed: report when it is applied
    jobTimer: null,
    jobHideTimer: null,
    synDirty: false,
    newTouched: false,
  };

  const kbApi = (path, id) => '/api/team/kb/' + path + (id ? '?id=' + encodeURIComponent(id) : '');
  const docLink = (id) => '#/kb/doc/' + encodeURIComponent(id);

  function safeDecode(s) {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  }

  /** Lower case without diacritics, for the filters ("chu ky so" finds "chữ ký số"). */
  function fold(s) {
    return String(s || '')
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd')
      .replace(/Đ/g, 'D')
      .toLowerCase();
  }

  function num(x, digits) {
    if (x === null || x === undefined || x === '' || Number.isNaN(Number(x))) return '—';
    return Number(x).toLocaleString('vi-VN', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  function score(x) {
    if (x === null || x === undefined || Number.isNaN(Number(x))) return '—';
    return Number(x).toLocaleString('vi-VN', { maximumSignificantDigits: 3 });
  }

  function pct1(x) {
    if (x === null || x === undefined || Number.isNaN(Number(x))) return '—';
    const v = Number(x) <= 1 ? Number(x) * 100 : Number(x);
    return num(v, 1) + ' %';
  }

  /** A front-matter date (yyyy-mm-dd) as a day; anything else as a date and time. */
  function day(value) {
    if (!value) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
    return m ? m[3] + '/' + m[2] + '/' + m[1] : when(value);
  }

  function versionLabel(v) {
    if (!v) return '';
    const s = String(v);
    return /^v/i.test(s) ? s : 'v' + s;
  }

  function kindBadge(kind) {
    return h('span', { class: 'badge kind-' + (kind || 'other'), text: label(KINDS, kind) });
  }

  function headingPath(p) {
    if (Array.isArray(p)) return p.filter(Boolean).join(' › ');
    return p ? String(p) : '';
  }

  // The console API explains refusals in English; the ones staff meet most often, in Vietnamese.
  const KB_MESSAGES = [
    [/front matter needs a non-empty (.+)$/i, (m) => 'Phần đầu (front matter) còn thiếu: ' + m[1]],
    [
      /must start with front matter/i,
      () => 'Tài liệu phải bắt đầu bằng phần đầu: ---, title, topic, updated, owner, ---',
    ],
    [/front matter is not valid YAML: (.*)$/i, (m) => 'Phần đầu viết sai cú pháp YAML: ' + m[1]],
    [/no text below the front matter/i, () => 'Chưa có nội dung bên dưới phần đầu'],
    [
      /questions \(front matter\) must be a list/i,
      () => 'questions (phần đầu) phải là một danh sách câu hỏi',
    ],
    [
      /new file name must be/i,
      () => 'Tên tệp mới chỉ gồm chữ thường không dấu, số và dấu gạch ngang, đuôi .md',
    ],
    [/cannot be edited here/i, () => 'Tài liệu này không sửa được trong trình duyệt (chỉ các tệp Markdown)'],
    [/synonyms\.yaml is not valid: (.*)$/i, (m) => 'synonyms.yaml chưa đúng: ' + m[1]],
    [/no previous index version/i, () => 'Không có phiên bản trước để quay lại'],
    [
      /re-index is in progress/i,
      () => 'Đang lập chỉ mục lại; bạn quay lại phiên bản trước sau khi việc này xong',
    ],
    [/is already the current version/i, () => 'Phiên bản đó đang được dùng rồi'],
    [
      /built with another embedding model/i,
      () => 'Phiên bản đó dùng mô hình nhúng khác, không dùng lại được',
    ],
    [/larger than the limit of (.+)$/i, (m) => 'Tệp lớn hơn giới hạn ' + m[1]],
    [
      /contains no text to answer from/i,
      () => 'Tệp không có chữ để trợ lý trả lời (có thể là bản chụp/scan)',
    ],
    [/could not be read: (.*)$/i, (m) => 'Không đọc được tệp: ' + m[1]],
    [/unsupported file type "([^"]*)"/i, (m) => 'Loại tệp ' + m[1] + ' chưa được hỗ trợ'],
    [
      /content is (.+), which does not match its name "(.+)"/i,
      (m) => 'Nội dung tệp "' + m[2] + '" không đúng với đuôi tên tệp',
    ],
    [/the file is empty/i, () => 'Tệp rỗng'],
    [/no document "(.+)"/i, (m) => 'Không có tài liệu ' + m[1] + ' trong kho tri thức'],
    [/docId must be a document/i, () => 'Tài liệu đã chọn không còn trong kho tri thức'],
    [/index is not loaded yet/i, () => 'Chỉ mục chưa sẵn sàng, bạn thử lại sau ít giây'],
    [/q is longer than (\d+)/i, (m) => 'Câu hỏi dài quá ' + m[1] + ' ký tự'],
    [
      /guided flows are read-only/i,
      () => 'Luồng hướng dẫn chỉ xem được ở đây; sửa trong knowledge/flows/ trên máy chủ',
    ],
  ];

  function kbMessage(message) {
    const text = String(message || '').trim();
    for (const [re, fn] of KB_MESSAGES) {
      const m = re.exec(text);
      if (m) return fn(m);
    }
    return text;
  }

  /** The error of a knowledge-console call, in Vietnamese. */
  function explainKb(e) {
    if (!(e instanceof ApiError)) return explain(e);
    const detail = e.message && e.message !== 'Error' ? kbMessage(e.message) : '';
    if (e.status === 413)
      return (
        'Tệp quá lớn, máy chủ không nhận' +
        (detail ? ' (' + detail + ')' : '') +
        '. Bạn chọn tệp nhỏ hơn hoặc tách tài liệu thành nhiều tệp.'
      );
    if (e.status === 415)
      return (
        'Định dạng tệp chưa được hỗ trợ. Chỉ nhận PDF, Word (.docx), HTML, Markdown (.md) và văn bản (.txt).' +
        (detail ? ' (' + detail + ')' : '')
      );
    if (e.status === 422)
      return (
        (detail || 'Không đọc được chữ trong tệp') +
        '. Tệp PDF chụp ảnh (scan) không có chữ để đọc; bạn thử bản Word hoặc PDF có chữ.'
      );
    if (e.status === 409) return 'Chưa làm được: ' + (detail || 'trạng thái vừa thay đổi') + '.';
    if (e.status === 404) return (detail || 'Không tìm thấy') + '.';
    if (e.status === 400) return 'Nội dung chưa hợp lệ: ' + (detail || 'dữ liệu gửi lên bị sai') + '.';
    if (e.status === 503) return (detail || 'Dịch vụ chưa sẵn sàng') + '.';
    return explain(e);
  }

  /** Shows a validation error with its details one per line (for front matter and YAML errors). */
  function showProblems(el, heading, e) {
    clear(el);
    if (!e) {
      show(el, false);
      return;
    }
    if (!(e instanceof ApiError) || e.status !== 400) {
      el.textContent = explainKb(e);
      show(el, true);
      return;
    }
    const lines = String(e.message || '')
      .split(/\n|;\s+/)
      .map((s) => kbMessage(s.trim()))
      .filter(Boolean);
    el.append(h('b', { text: heading }));
    if (lines.length > 1)
      el.append(
        h(
          'ul',
          null,
          lines.map((line) => h('li', { class: 'pre', text: line })),
        ),
      );
    else el.append(h('p', { class: 'pre', text: lines[0] || 'dữ liệu chưa hợp lệ' }));
    show(el, true);
  }

  /** A modal confirmation; resolves to { reason } or null. The dialog keeps focus and closes on Esc. */
  function confirmDialog(opts) {
    const dlg = $('confirm-dialog');
    if (!dlg || typeof dlg.showModal !== 'function') {
      return Promise.resolve(window.confirm(opts.title + '\n\n' + opts.text) ? { reason: '' } : null);
    }
    $('cd-title').textContent = opts.title;
    $('cd-text').textContent = opts.text;
    $('cd-ok').textContent = opts.ok;
    $('cd-ok').className = opts.danger ? 'danger-fill' : 'primary';
    show($('cd-reason-box'), Boolean(opts.reason));
    $('cd-reason').value = '';
    return new Promise((resolve) => {
      const form = $('cd-form');
      const cancel = $('cd-cancel');
      const done = (value) => {
        form.removeEventListener('submit', onSubmit);
        cancel.removeEventListener('click', onCancel);
        dlg.removeEventListener('close', onCancel);
        if (dlg.open) dlg.close();
        resolve(value);
      };
      const onSubmit = (ev) => {
        ev.preventDefault();
        done({ reason: $('cd-reason').value.trim() });
      };
      const onCancel = () => done(null);
      form.addEventListener('submit', onSubmit);
      cancel.addEventListener('click', onCancel);
      dlg.addEventListener('close', onCancel);
      dlg.showModal();
      (opts.reason ? $('cd-reason') : cancel).focus();
    });
  }

  function fillTopicSelects() {
    for (const select of document.querySelectorAll('select[data-topics]')) {
      clear(select);
      select.append(h('option', { value: '', text: '(tự nhận theo nội dung)' }));
      for (const key of Object.keys(KB_TOPICS))
        select.append(h('option', { value: key, text: KB_TOPICS[key] }));
    }
  }
  fillTopicSelects();

  // Navigation inside the console

  function routeKb(path) {
    let view = 'docs';
    let docId = null;
    if (path.startsWith('doc/')) {
      view = 'doc';
      docId = safeDecode(path.slice('doc/'.length));
    } else if (KB_VIEWS.includes(path) && path !== 'doc') view = path;
    kb.view = view;
    for (const link of document.querySelectorAll('#kb .subtabs a')) {
      if (link.dataset.kb === (view === 'doc' ? 'docs' : view)) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    for (const v of KB_VIEWS) show($('kb-' + v), v === view);
    show($('kb-job-link'), view !== 'versions');
    if (view === 'docs') loadKbDocs();
    if (view === 'doc') openKbDoc(docId);
    if (view === 'hit' && !kb.docs) loadKbDocs();
    if (view === 'versions') loadKbVersions();
    if (view === 'synonyms') loadKbSynonyms(false);
    if (view === 'audit') loadKbAudit();
    // The job state banner, also when the page opens during a re-index.
    if (!kb.versions && view !== 'versions') pollJob();
  }

  // The re-index job: shown after every change, followed every 2 s until the new version is applied

  const jobActive = (job) => Boolean(job && (job.state === 'running' || job.state === 'queued'));

  function followJob(job) {
    kb.watching = true;
    setJob(job && job.state ? job : { state: 'queued' });
    scheduleJobPoll(jobActive(job) ? JOB_POLL_MS : 400);
  }

  function scheduleJobPoll(ms) {
    clearTimeout(kb.jobTimer);
    kb.jobTimer = setTimeout(pollJob, ms);
  }

  async function pollJob() {
    clearTimeout(kb.jobTimer);
    if (!isAdmin()) return;
    let data;
    try {
      data = await api('GET', '/api/team/kb/versions');
    } catch {
      if (kb.watching && state.me) scheduleJobPoll(JOB_POLL_MS * 2);
      return;
    }
    applyVersions(data || {});
  }

  function applyVersions(data) {
    if (!state.me) return;
    const wasActive = jobActive(kb.job);
    kb.versions = data;
    kb.current = data.current || null;
    const job = data.job || { state: 'idle' };
    if (jobActive(job)) {
      kb.watching = true;
      setJob(job);
      scheduleJobPoll(JOB_POLL_MS);
    } else {
      clearTimeout(kb.jobTimer);
      const finished = kb.watching;
      setJob(job);
      kb.watching = false;
      if (finished || wasActive) {
        // The new version is live: what the views show may have changed.
        if (kb.view === 'docs') loadKbDocs();
        else kb.docs = null;
        if (kb.view === 'doc' && kb.docId) openKbDoc(kb.docId, true);
        if (kb.view === 'audit') loadKbAudit();
      }
    }
    if (kb.view === 'versions') renderVersions(data);
    renderJobLine();
  }

  function setJob(job) {
    kb.job = job || null;
    const box = $('kb-job');
    const text = $('kb-job-text');
    clearTimeout(kb.jobHideTimer);
    if (!kb.watching && !jobActive(job)) {
      show(box, false);
      return;
    }
    box.classList.remove('running', 'ok', 'bad');
    if (jobActive(job)) {
      box.classList.add('running');
      text.textContent =
        job.state === 'queued'
          ? 'Đang chờ lập chỉ mục lại…'
          : 'Đang lập chỉ mục lại… Trợ lý vẫn dùng phiên bản cũ.';
    } else if (job && job.lastError) {
      box.classList.add('bad');
      text.textContent = 'Lập chỉ mục lại chưa được: ' + job.lastError + '. Trợ lý vẫn dùng phiên bản cũ.';
    } else {
      box.classList.add('ok');
      const v = (job && job.lastVersion) || kb.current;
      text.textContent =
        'Đã áp dụng phiên bản ' + (v ? versionLabel(v) : 'mới') + '. Trợ lý đang dùng nội dung mới.';
      kb.jobHideTimer = setTimeout(() => show(box, false), 20000);
    }
    show(box, true);
  }

  function renderJobLine() {
    const line = $('kb-v-job');
    const job = kb.job || { state: 'idle' };
    const parts = [];
    if (kb.current) parts.push('Trợ lý đang dùng phiên bản ' + versionLabel(kb.current) + '.');
    if (job.state === 'running')
      parts.push('Đang lập chỉ mục lại' + (job.startedAt ? ' từ ' + when(job.startedAt) : '') + '…');
    else if (job.state === 'queued') parts.push('Đang chờ lập chỉ mục lại…');
    else if (job.lastError) parts.push('Lần lập chỉ mục gần nhất bị lỗi: ' + job.lastError);
    else if (job.finishedAt)
      parts.push(
        'Lần lập chỉ mục gần nhất xong lúc ' +
          when(job.finishedAt) +
          (job.lastVersion ? ' (' + versionLabel(job.lastVersion) + ')' : '') +
          '.',
      );
    line.textContent = parts.join(' ');
    line.className = 'job-line' + (jobActive(job) ? ' running' : job.lastError ? ' bad' : '');
    $('kb-reindex').disabled = jobActive(job);
    $('kb-rollback').disabled = !(kb.versions && kb.versions.previous);
  }

  // Documents

  async function loadKbDocs() {
    const seq = ++kb.docsSeq;
    show($('kb-docs-loading'), !kb.docs);
    let data;
    try {
      data = await api('GET', '/api/team/kb/documents');
    } catch (e) {
      if (seq !== kb.docsSeq) return;
      show($('kb-docs-loading'), false);
      setError($('kb-docs-error'), explainKb(e));
      return;
    }
    if (seq !== kb.docsSeq || !state.me) return;
    show($('kb-docs-loading'), false);
    setError($('kb-docs-error'), '');
    kb.docs = { version: data.version, documents: data.documents || [], retired: data.retired || [] };
    renderKbDocs();
    fillDocPicker();
  }

  function sortedDocs(list) {
    return list.slice().sort((a, b) => {
      const k = KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
      return k || String(a.title || a.id).localeCompare(String(b.title || b.id), 'vi');
    });
  }

  function renderKbDocs() {
    const data = kb.docs;
    if (!data) return;
    const kind = $('kb-f-kind').value;
    const q = fold($('kb-f-q').value.trim());
    const rows = sortedDocs(data.documents).filter((d) => !kind || d.kind === kind);
    const shown = rows.filter(
      (d) =>
        !q ||
        fold([d.title, d.id, d.topic, label(KB_TOPICS, d.topic), d.owner].filter(Boolean).join(' ')).includes(
          q,
        ),
    );
    const list = $('kb-doc-list');
    clear(list);
    for (const d of shown) {
      const chunks = Number(d.chunks) || 0;
      const facts = [];
      if (d.updated) facts.push('cập nhật ' + day(d.updated));
      if (d.owner) facts.push(d.owner);
      facts.push(d.indexedAt ? 'lập chỉ mục ' + when(d.indexedAt) : 'chưa có trong chỉ mục');
      list.append(
        h('li', null, [
          h(
            'a',
            {
              class: 'item kb-doc' + (d.indexed === false ? ' not-indexed' : ''),
              href: docLink(d.id),
              'data-id': d.id,
              'data-kind': d.kind,
            },
            [
              h('span', { class: 'badges' }, [
                kindBadge(d.kind),
                d.indexed === false
                  ? h('span', { class: 'badge unindexed', text: 'chưa lập chỉ mục' })
                  : null,
                d.editable === false ? h('span', { class: 'badge st-closed', text: 'chỉ xem' }) : null,
              ]),
              h('span', { class: 'text', text: d.title || d.id }),
              h('span', {
                class: 'sub',
                text: d.id + (d.topic ? ' · ' + label(KB_TOPICS, d.topic) : ''),
              }),
              d.error
                ? h('span', { class: 'warn', text: 'Không lập chỉ mục được: ' + kbMessage(d.error) })
                : null,
              h('span', { class: 'sub' }, [
                h('b', { class: 'chunk-count', text: chunks + ' đoạn' }),
                ' · ' + facts.join(' · '),
              ]),
            ],
          ),
        ]),
      );
    }
    show($('kb-docs-empty'), shown.length === 0);
    const all = data.documents;
    const totalChunks = all.reduce((n, d) => n + (Number(d.chunks) || 0), 0);
    const unindexed = all.filter((d) => d.indexed === false).length;
    $('kb-docs-summary').textContent =
      (shown.length === all.length ? all.length : shown.length + '/' + all.length) +
      ' tài liệu · ' +
      totalChunks +
      ' đoạn' +
      (data.version ? ' · chỉ mục ' + versionLabel(data.version) : '') +
      (unindexed ? ' · ' + unindexed + ' chưa lập chỉ mục' : '');

    const retired = data.retired || [];
    const ul = $('kb-retired');
    clear(ul);
    for (const r of retired) {
      ul.append(
        h('li', null, [
          h('b', { text: r.title || r.id }),
          ' — ' + r.id + (r.retiredAt ? ' · ngừng từ ' + when(r.retiredAt) : ''),
        ]),
      );
    }
    $('kb-retired-summary').textContent = 'Đã ngừng sử dụng (' + retired.length + ')';
    show($('kb-retired-box'), retired.length > 0);
  }

  $('kb-doc-filter').addEventListener('submit', (ev) => ev.preventDefault());
  $('kb-f-kind').addEventListener('change', renderKbDocs);
  $('kb-f-q').addEventListener('input', renderKbDocs);
  $('kb-docs-reload').addEventListener('click', loadKbDocs);

  // One document: its chunks as retrieval sees them, the editor, retire

  async function openKbDoc(id, quiet) {
    const switched = id !== kb.docId || !kb.doc;
    kb.docId = id;
    const seq = ++kb.docSeq;
    if (switched) {
      kb.doc = null;
      kb.editorDirty = false;
      show($('kb-doc-card'), false);
      show($('kb-editor-box'), false);
      show($('kb-source-box'), false);
      show($('kb-chunks-box'), false);
      $('kb-editor-box').open = false;
      showProblems($('kb-editor-error'), '', null);
      show($('kb-doc-loading'), true);
      setError($('kb-doc-error'), '');
    }
    let data;
    try {
      data = await api('GET', kbApi('document', id));
    } catch (e) {
      if (seq !== kb.docSeq) return;
      show($('kb-doc-loading'), false);
      if (!quiet || switched) setError($('kb-doc-error'), explainKb(e));
      return;
    }
    if (seq !== kb.docSeq || kb.docId !== id || !state.me) return;
    show($('kb-doc-loading'), false);
    setError($('kb-doc-error'), '');
    kb.doc = data;
    renderKbDoc(data, switched);
    if (switched) $('kb-doc-title').focus({ preventScroll: false });
  }

  function renderKbDoc(data, switched) {
    const d = data.document || { id: kb.docId };
    const chunks = data.chunks || [];
    const badges = $('kb-doc-badges');
    clear(badges);
    badges.append(kindBadge(d.kind));
    if (d.indexed === false) badges.append(h('span', { class: 'badge unindexed', text: 'chưa lập chỉ mục' }));
    $('kb-doc-title').textContent = d.title || d.id;
    const dl = $('kb-doc-meta');
    clear(dl);
    metaRow(dl, 'Tệp', d.id);
    metaRow(dl, 'Chủ đề', d.topic ? label(KB_TOPICS, d.topic) : '');
    metaRow(dl, 'Cập nhật', day(d.updated));
    metaRow(dl, 'Phụ trách', d.owner);
    metaRow(dl, 'Định dạng', d.format);
    metaRow(dl, 'Số đoạn', String(chunks.length || Number(d.chunks) || 0));
    metaRow(dl, 'Lập chỉ mục lúc', d.indexedAt ? when(d.indexedAt) : 'Chưa có trong chỉ mục');
    const note = $('kb-doc-note');
    const notes = [];
    if (d.error) notes.push('Lần lập chỉ mục gần nhất bỏ qua tệp này: ' + kbMessage(d.error));
    if (data.chunksFrom === 'file')
      notes.push(
        'Tài liệu chưa có trong chỉ mục đang dùng: các đoạn dưới đây là cách tệp sẽ được chia ở lần lập chỉ mục tới.',
      );
    else if (d.indexed === false && chunks.length)
      notes.push('Tệp đã thay đổi sau lần lập chỉ mục gần nhất: các đoạn dưới đây là bản đang dùng.');
    if (d.kind === 'flow') notes.push('Luồng hướng dẫn không chia đoạn; trợ lý đọc tệp khi khởi động.');
    note.textContent = notes.join(' ');
    show(note, notes.length > 0);
    show($('kb-doc-card'), true);
    show($('kb-doc-retire'), d.kind !== 'flow');

    const editable = Boolean(d.editable) && typeof data.content === 'string';
    show($('kb-editor-box'), editable);
    $('kb-source-text').textContent = !editable && typeof data.content === 'string' ? data.content : '';
    show($('kb-source-box'), !editable && typeof data.content === 'string');
    if (editable && (switched || !kb.editorDirty)) {
      $('kb-editor-text').value = data.content;
      kb.editorDirty = false;
    }

    const ol = $('kb-chunks');
    clear(ol);
    for (const c of chunks) {
      const detail = [
        h('summary', { text: 'Văn bản dùng để tìm (không dấu)' }),
        h('pre', { class: 'code', text: c.folded || '' }),
      ];
      if (c.indexText && c.indexText !== c.text) {
        detail.push(
          h('p', { class: 'sub', text: 'Văn bản lập chỉ mục (kèm tiêu đề mục):' }),
          h('pre', { class: 'code', text: c.indexText }),
        );
      }
      ol.append(
        h('li', { class: 'chunk' }, [
          h('p', { class: 'path', text: headingPath(c.headingPath) || '(phần mở đầu)' }),
          h('p', { class: 'pre', text: c.text || '' }),
          h('details', null, detail),
          h('p', { class: 'sub', text: c.id }),
        ]),
      );
    }
    $('kb-chunks-title').textContent = 'Các đoạn như trợ lý tìm thấy (' + chunks.length + ')';
    if (!chunks.length)
      ol.append(h('li', { class: 'empty', text: 'Tài liệu chưa có đoạn nào trong chỉ mục đang dùng.' }));
    show($('kb-chunks-box'), true);
  }

  $('kb-editor-text').addEventListener('input', () => {
    kb.editorDirty = true;
  });

  $('kb-editor-reset').addEventListener('click', () => {
    if (kb.doc && typeof kb.doc.content === 'string') $('kb-editor-text').value = kb.doc.content;
    kb.editorDirty = false;
    showProblems($('kb-editor-error'), '', null);
  });

  $('kb-editor').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = kb.docId;
    const content = $('kb-editor-text').value;
    showProblems($('kb-editor-error'), '', null);
    let result;
    try {
      result = await busy(ev.submitter, () => api('PUT', kbApi('document', id), { content }));
    } catch (e) {
      showProblems($('kb-editor-error'), 'Chưa lưu được, bạn sửa giúp những chỗ sau:', e);
      $('kb-editor-text').focus();
      return;
    }
    kb.editorDirty = false;
    toast('Đã lưu tài liệu. Đang lập chỉ mục lại…', 'ok');
    followJob(result && result.job);
    kb.docs = null;
    if (kb.docId === id) openKbDoc(id, true);
  });

  $('kb-doc-retire').addEventListener('click', async (ev) => {
    const button = ev.currentTarget;
    const d = kb.doc && kb.doc.document;
    if (!d) return;
    const title = d.title || d.id;
    const answer = await confirmDialog({
      title: 'Ngừng sử dụng tài liệu này?',
      text:
        '"' +
        title +
        '" sẽ được chuyển vào mục lưu trữ; trợ lý thôi dùng nó để trả lời từ phiên bản chỉ mục tiếp theo.',
      ok: 'Ngừng sử dụng',
      reason: true,
      danger: true,
    });
    if (!answer) return;
    let result;
    try {
      result = await busy(button, () =>
        api('POST', kbApi('retire', d.id), answer.reason ? { reason: answer.reason } : {}),
      );
    } catch (e) {
      setError($('kb-doc-error'), explainKb(e));
      return;
    }
    toast('Đã ngừng sử dụng "' + title + '".', 'ok');
    followJob(result && result.job);
    kb.docs = null;
    location.hash = '#/kb';
  });

  // Upload a file

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new window.FileReader();
      reader.addEventListener('load', () => {
        const s = String(reader.result || '');
        resolve(s.slice(s.indexOf(',') + 1));
      });
      reader.addEventListener('error', () => reject(reader.error || new Error('không đọc được tệp')));
      reader.readAsDataURL(file);
    });
  }

  $('kb-upload').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('kb-u-result');
    show(out, false);
    setError($('kb-u-error'), '');
    const input = $('kb-u-file');
    const file = input.files && input.files[0];
    if (!file) {
      setError($('kb-u-error'), 'Bạn chọn một tệp trước nhé.');
      input.focus();
      return;
    }
    if (!UPLOAD_TYPES.test(file.name)) {
      setError(
        $('kb-u-error'),
        'Định dạng tệp chưa được hỗ trợ. Chỉ nhận PDF, Word (.docx), HTML, Markdown (.md) và văn bản (.txt).',
      );
      input.focus();
      return;
    }
    let result;
    try {
      result = await busy(ev.submitter, async () => {
        const body = {
          filename: file.name,
          contentBase64: await readBase64(file),
          kind: $('kb-u-kind').value,
        };
        for (const [key, id] of [
          ['title', 'kb-u-title'],
          ['topic', 'kb-u-topic'],
          ['owner', 'kb-u-owner'],
        ]) {
          const v = $(id).value.trim();
          if (v) body[key] = v;
        }
        return api('POST', '/api/team/kb/upload', body);
      });
    } catch (e) {
      setError($('kb-u-error'), explainKb(e));
      return;
    }
    const d = (result && result.document) || {};
    clear(out);
    out.append(
      'Đã thêm "' + (d.title || file.name) + '"' + (d.id ? ' (' + d.id + ')' : '') + '. ',
      d.id ? h('a', { href: docLink(d.id), text: 'Xem các đoạn' }) : null,
    );
    show(out, true);
    $('kb-upload').reset();
    followJob(result && result.job);
    loadKbDocs();
  });

  // A new Markdown page (PUT on a new id creates it)

  function newPageTemplate(folder) {
    const now = new Date();
    const today = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
      .map((n, i) => (i ? String(n).padStart(2, '0') : String(n)))
      .join('-');
    const owner = JSON.stringify((state.me && state.me.name) || 'Cán bộ CNTT');
    if (folder === 'faq') {
      return [
        '---',
        'title: "Câu hỏi chính, như người dân hỏi?"',
        'topic: dich-vu-cong',
        'updated: ' + today,
        'owner: ' + owner,
        'questions:',
        '  - "cách hỏi khác"',
        '  - "cach hoi khong dau"',
        '---',
        'Câu trả lời ngắn (dưới 700 ký tự), có các bước đánh số nếu cần.',
        '',
      ].join('\n');
    }
    return [
      '---',
      'title: "Tên hướng dẫn"',
      'topic: dich-vu-cong',
      'updated: ' + today,
      'owner: ' + owner,
      'summary: "Một câu tóm tắt hướng dẫn."',
      '---',
      '',
      '# Tên hướng dẫn',
      '',
      '## Các bước … (ghi rõ việc gì trong tiêu đề mục)',
      '',
      '1. Bước thứ nhất.',
      '2. Bước thứ hai.',
      '',
      '## Cần giúp đỡ?',
      '',
      'Bạn hỏi Tổ công nghệ số cộng đồng của xã/phường.',
      '',
    ].join('\n');
  }

  $('kb-new-box').addEventListener('toggle', () => {
    if ($('kb-new-box').open && !$('kb-n-content').value) {
      $('kb-n-content').value = newPageTemplate($('kb-n-folder').value);
      kb.newTouched = false;
    }
  });
  $('kb-n-content').addEventListener('input', () => {
    kb.newTouched = true;
  });
  $('kb-n-folder').addEventListener('change', () => {
    if (!kb.newTouched) $('kb-n-content').value = newPageTemplate($('kb-n-folder').value);
  });
  $('kb-n-template').addEventListener('click', () => {
    $('kb-n-content').value = newPageTemplate($('kb-n-folder').value);
    kb.newTouched = false;
  });

  $('kb-new').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errBox = $('kb-n-error');
    showProblems(errBox, '', null);
    const slug = $('kb-n-slug').value.trim().replace(/\.md$/i, '');
    if (!SLUG.test(slug)) {
      errBox.textContent =
        'Tên tệp chỉ gồm chữ thường không dấu, số và dấu gạch ngang (vd: dvc-nop-ho-so-khai-sinh).';
      show(errBox, true);
      $('kb-n-slug').focus();
      return;
    }
    const id = $('kb-n-folder').value + '/' + slug + '.md';
    const exists = kb.docs && kb.docs.documents.some((d) => d.id === id || d.id === id.replace(/\.md$/, ''));
    if (exists) {
      errBox.textContent = 'Đã có tài liệu ' + id + '. Bạn chọn tên khác hoặc mở tài liệu đó để sửa.';
      show(errBox, true);
      $('kb-n-slug').focus();
      return;
    }
    let result;
    try {
      result = await busy(ev.submitter, () =>
        api('PUT', kbApi('document', id), { content: $('kb-n-content').value }),
      );
    } catch (e) {
      showProblems(errBox, 'Chưa tạo được trang, bạn sửa giúp những chỗ sau:', e);
      return;
    }
    const created = (result && result.document && result.document.id) || id;
    toast('Đã tạo ' + created + '. Đang lập chỉ mục lại…', 'ok');
    $('kb-new').reset();
    $('kb-n-content').value = '';
    $('kb-new-box').open = false;
    followJob(result && result.job);
    kb.docs = null;
    location.hash = docLink(created);
  });

  // Hit testing

  $('kb-hit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = $('kb-hit-q').value.trim();
    if (!q) {
      setError($('kb-hit-error'), 'Bạn gõ một câu hỏi trước nhé.');
      $('kb-hit-q').focus();
      return;
    }
    const seq = ++kb.hitSeq;
    setError($('kb-hit-error'), '');
    $('kb-hit-status').textContent = 'Đang tìm…';
    let data;
    try {
      data = await busy(ev.submitter, () => api('POST', '/api/team/kb/hit', { q, k: 10 }));
    } catch (e) {
      if (seq !== kb.hitSeq) return;
      $('kb-hit-status').textContent = '';
      setError($('kb-hit-error'), explainKb(e));
      return;
    }
    if (seq !== kb.hitSeq || !state.me) return;
    kb.hit = { q, data: data || {} };
    renderHit(kb.hit);
  });

  function renderHit(hit) {
    const data = hit.data;
    const dl = $('kb-hit-query');
    clear(dl);
    metaRow(dl, 'Câu hỏi', hit.q);
    metaRow(dl, 'Sau chuẩn hoá', data.normalized || data.query);
    if (data.folded) {
      dl.append(
        h('div', null, [
          h('dt', { text: 'Không dấu (dùng để tìm)' }),
          h('dd', null, h('code', { text: data.folded })),
        ]),
      );
    }
    metaRow(dl, 'Phiên bản chỉ mục', data.version ? versionLabel(data.version) : '');

    const ex = $('kb-hit-expansions');
    clear(ex);
    for (const e of data.expansions || []) {
      const added = [].concat(e.added || []);
      ex.append(
        h('li', null, [
          h('span', { class: 'matched', text: e.matched }),
          ' → ',
          h('span', { class: 'added', text: added.join(', ') || '—' }),
        ]),
      );
    }
    if (!(data.expansions || []).length)
      ex.append(h('li', { class: 'sub', text: 'Không có từ viết tắt hay từ đồng nghĩa nào được mở rộng.' }));

    renderConfidence(data);
    renderHitAnswer(data.answer || {});

    const fused = $('kb-hit-fused');
    clear(fused);
    for (const row of data.fused || []) fused.append(hitRow(row, hit.q, true));
    if (!(data.fused || []).length)
      fused.append(h('li', { class: 'empty', text: 'Không tìm thấy đoạn nào.' }));

    const legs = data.legs || {};
    for (const leg of LEG_ORDER) {
      const rows = legs[leg] || [];
      const ol = $('kb-leg-' + leg).querySelector('ol');
      clear(ol);
      for (const row of rows) ol.append(hitRow(row, hit.q, false));
      if (!rows.length) ol.append(h('li', { class: 'empty', text: 'Không có kết quả.' }));
      $('kb-tab-' + leg).textContent = LEGS[leg] + ' (' + rows.length + ')';
    }
    selectLeg(kb.leg, false);
    show($('kb-pick-result'), false);
    show($('kb-hit-result'), true);
    const answered = Boolean(data.answer && data.answer.answered);
    $('kb-hit-status').textContent =
      (data.fused || []).length +
      ' đoạn tìm được · độ tin cậy ' +
      num(data.confidence, 2) +
      ' · ' +
      (answered
        ? 'trợ lý sẽ trả lời'
        : data.answer && data.answer.mode === 'clarify'
          ? 'trợ lý chưa chắc, sẽ hỏi lại "có phải bạn muốn hỏi…"'
          : 'trợ lý sẽ chuyển cho Tổ công nghệ số');
  }

  function renderConfidence(data) {
    const box = $('kb-hit-confidence');
    clear(box);
    const c = Number(data.confidence);
    const t = Number(data.threshold);
    const clamp = (x) => (Number.isNaN(x) ? 0 : Math.max(0, Math.min(1, x)));
    const enough = !Number.isNaN(c) && !Number.isNaN(t) && c >= t;
    const fill = h('span', { class: 'fill' });
    fill.style.width = Math.round(clamp(c) * 1000) / 10 + '%';
    const mark = h('span', { class: 'mark' });
    mark.style.left = Math.round(clamp(t) * 1000) / 10 + '%';
    box.append(
      h('p', { class: 'conf-figures' }, [
        h('b', { text: num(c, 2) }),
        ' / ngưỡng trả lời ' + num(t, 2) + ' — ',
        h('span', {
          class: enough ? 'ok-text' : 'bad-text',
          text: enough ? 'đủ tin cậy để trả lời' : 'dưới ngưỡng, không trả lời',
        }),
      ]),
      h(
        'div',
        {
          class: 'conf-bar ' + (enough ? 'ok' : 'low'),
          role: 'img',
          'aria-label': 'Độ tin cậy ' + num(c, 2) + ', ngưỡng ' + num(t, 2),
        },
        [fill, mark],
      ),
    );
    const fm = data.faqMatch;
    if (fm && typeof fm === 'object') {
      box.append(
        h('p', { class: 'sub' }, [
          'Khớp Hỏi đáp: ',
          h('b', { text: fm.question || fm.title || fm.docId || '—' }),
          fm.docId ? ' (' + fm.docId + ')' : '',
          fm.similarity !== undefined ? ' — độ giống ' + num(fm.similarity, 2) : '',
        ]),
      );
    }
    const signals = data.signals && typeof data.signals === 'object' ? data.signals : null;
    if (signals && Object.keys(signals).length) {
      const sdl = h('dl', { class: 'meta' });
      for (const key of Object.keys(signals)) {
        const v = signals[key];
        if (v !== null && typeof v === 'object') continue;
        metaRow(sdl, key, typeof v === 'number' ? num(v, 3) : String(v));
      }
      box.append(
        h('details', { class: 'signals' }, [h('summary', { text: 'Các tín hiệu tính độ tin cậy' }), sdl]),
      );
    }
  }

  function renderHitAnswer(a) {
    const box = $('kb-hit-answer');
    clear(box);
    if (a.answered) {
      const sources = h('ol', { class: 'sources' });
      for (const s of a.sources || []) {
        sources.append(
          h('li', null, [
            h('span', { text: s.title || s.file || '' }),
            h('small', { text: [s.file, s.section].filter(Boolean).join(' › ') }),
          ]),
        );
      }
      box.append(
        h('div', { class: 'answer' }, [
          h('p', { class: 'pre', text: a.text || '' }),
          (a.sources || []).length ? h('h4', { text: 'Nguồn' }) : null,
          (a.sources || []).length ? sources : null,
        ]),
      );
    } else if (a.mode === 'clarify') {
      box.append(
        h('p', {
          class: 'banner',
          text: 'Bot chưa đủ chắc để trả lời: nó hỏi lại người dân bằng các gợi ý dưới đây, kèm nút "Không phải các câu trên" để chuyển cho Tổ công nghệ số.',
        }),
        h('p', { class: 'pre', text: a.text || '' }),
      );
    } else {
      box.append(
        h('p', { class: 'banner danger', text: 'Bot sẽ không trả lời và chuyển cho Tổ công nghệ số.' }),
      );
      if (a.text) box.append(h('p', { class: 'hint pre', text: 'Người dân sẽ thấy: ' + a.text }));
    }
  }

  function legRanks(ranks) {
    if (!ranks || typeof ranks !== 'object') return '';
    return LEG_ORDER.map((leg) => {
      const r = ranks[leg];
      return LEGS[leg] + ' ' + (r === null || r === undefined ? '—' : '#' + r);
    }).join(' · ');
  }

  function hitRow(row, q, fused) {
    const path = headingPath(row.headingPath);
    const body = [
      h('p', { class: 'row-title' }, [
        h('b', { text: row.title || row.docId || '' }),
        h('span', { class: 'score', text: 'điểm ' + score(row.score) }),
      ]),
      path ? h('p', { class: 'sub', text: path }) : null,
      row.snippet ? h('p', { class: 'snippet', text: row.snippet }) : null,
      fused && row.ranks ? h('p', { class: 'sub ranks', text: legRanks(row.ranks) }) : null,
      row.docId ? h('p', { class: 'sub' }, h('a', { href: docLink(row.docId), text: row.docId })) : null,
    ];
    if (fused && row.docId) {
      body.push(
        h('button', {
          type: 'button',
          class: 'small expect',
          text: 'Lẽ ra phải tìm thấy tài liệu này',
          onclick: (ev) => addExpected(ev.currentTarget, q, row.docId, row.title),
        }),
      );
    }
    return h('li', { class: 'hit-row', 'data-doc': row.docId || '' }, [
      h('span', { class: 'rank', text: String(row.rank) }),
      h('div', { class: 'hit-body' }, body),
    ]);
  }

  async function addExpected(button, q, docId, title) {
    let result;
    try {
      result = await busy(button, () => api('POST', '/api/team/kb/expected', { q, docId }));
    } catch (e) {
      setError($('kb-hit-error'), explainKb(e));
      return null;
    }
    const already = Boolean(result && result.duplicate);
    const message = already
      ? 'Câu hỏi này đã có trong bộ câu hỏi đánh giá với tài liệu ' + (title || docId) + '.'
      : 'Đã thêm vào bộ câu hỏi đánh giá: "' + q + '" → ' + (title || docId) + '.';
    if (button && button.classList.contains('expect')) {
      button.replaceWith(h('p', { class: 'banner ok expected', role: 'status', text: message }));
    }
    toast(message, 'ok');
    return message;
  }

  function selectLeg(leg, focus) {
    kb.leg = leg;
    for (const l of LEG_ORDER) {
      const tab = $('kb-tab-' + l);
      const on = l === leg;
      tab.setAttribute('aria-selected', String(on));
      tab.setAttribute('aria-controls', 'kb-leg-' + l);
      tab.tabIndex = on ? 0 : -1;
      $('kb-leg-' + l).classList.toggle('active', on);
      if (on && focus) tab.focus();
    }
  }

  for (const leg of LEG_ORDER) {
    $('kb-tab-' + leg).addEventListener('click', () => selectLeg(leg, false));
    $('kb-tab-' + leg).addEventListener('keydown', (ev) => {
      const i = LEG_ORDER.indexOf(leg);
      if (ev.key === 'ArrowRight') selectLeg(LEG_ORDER[(i + 1) % LEG_ORDER.length], true);
      else if (ev.key === 'ArrowLeft')
        selectLeg(LEG_ORDER[(i + LEG_ORDER.length - 1) % LEG_ORDER.length], true);
      else return;
      ev.preventDefault();
    });
  }
  selectLeg('lexical', false);

  function fillDocPicker() {
    const select = $('kb-pick-doc');
    const keep = select.value;
    clear(select);
    select.append(h('option', { value: '', text: '(chọn tài liệu)' }));
    const docs = kb.docs ? sortedDocs(kb.docs.documents) : [];
    for (const kind of KIND_ORDER) {
      const group = docs.filter((d) => d.kind === kind);
      if (!group.length) continue;
      select.append(
        h(
          'optgroup',
          { label: label(KINDS, kind) },
          group.map((d) => h('option', { value: d.id, text: (d.title || d.id) + ' (' + d.id + ')' })),
        ),
      );
    }
    select.value = keep;
  }

  $('kb-pick').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('kb-pick-result');
    show(out, false);
    const docId = $('kb-pick-doc').value;
    if (!kb.hit) return;
    if (!docId) {
      setError($('kb-hit-error'), 'Bạn chọn tài liệu lẽ ra phải tìm thấy nhé.');
      $('kb-pick-doc').focus();
      return;
    }
    setError($('kb-hit-error'), '');
    const doc = kb.docs && kb.docs.documents.find((d) => d.id === docId);
    const message = await addExpected(ev.submitter, kb.hit.q, docId, doc && doc.title);
    if (message) {
      out.textContent = message;
      show(out, true);
    }
  });

  // Index versions

  async function loadKbVersions() {
    let data;
    let evalData;
    try {
      [data, evalData] = await Promise.all([
        api('GET', '/api/team/kb/versions'),
        api('GET', '/api/team/kb/eval').catch(() => null),
      ]);
      setError($('kb-v-error'), '');
    } catch (e) {
      setError($('kb-v-error'), explainKb(e));
      return;
    }
    kb.evalRuns = (evalData && evalData.runs) || [];
    applyVersions(data || {});
  }

  function evalOf(v) {
    const runs = (kb.evalRuns || []).filter((r) => r.version === v.version);
    return runs.length ? runs[runs.length - 1] : v.eval || null;
  }

  function renderVersions(data) {
    const tbody = document.querySelector('#kb-v-table tbody');
    clear(tbody);
    const versions = (data.versions || [])
      .slice()
      .sort((a, b) => String(b.createdAt || b.version).localeCompare(String(a.createdAt || a.version)));
    for (const v of versions) {
      const ev = evalOf(v) || {};
      const current = v.current || v.version === data.current;
      tbody.append(
        h('tr', { class: current ? 'current' : null }, [
          h('th', { scope: 'row' }, [
            h('span', { text: versionLabel(v.version) }),
            current ? h('span', { class: 'badge st-answered', text: 'đang dùng' }) : null,
            !current && v.version === data.previous ? h('span', { class: 'badge', text: 'trước' }) : null,
          ]),
          h('td', { text: when(v.createdAt) }),
          h('td', { text: v.chunkCount === undefined ? '—' : v.chunkCount }),
          h('td', { text: v.documentCount === undefined ? '—' : v.documentCount }),
          h('td', { text: pct1(ev.recallAt5) }),
          h('td', { text: num(ev.mrr, 3) }),
          h('td', { text: pct1(ev.answeredInScope) }),
          h('td', { text: pct1(ev.outOfScopeRejected) }),
        ]),
      );
    }
    if (!versions.length)
      tbody.append(
        h('tr', null, [h('td', { colspan: '8', class: 'empty', text: 'Chưa có phiên bản nào.' })]),
      );
    renderTrend(versions);
  }

  const METRICS = [
    ['recallAt1', 'Recall@1', 'pct'],
    ['recallAt5', 'Recall@5', 'pct'],
    ['mrr', 'MRR', 'mrr'],
    ['answeredInScope', 'Trả lời', 'pct'],
    ['outOfScopeRejected', 'Từ chối', 'pct'],
  ];

  /** The eval figures of each version, oldest first (the eval runs, or the versions' own figures). */
  function trendPoints(versions) {
    const byVersion = new Map();
    const runs = (kb.evalRuns || [])
      .slice()
      .sort((a, b) => String(a.createdAt || '').localeCompare(String(b.createdAt || '')));
    for (const r of runs) byVersion.set(r.version, r);
    for (const v of versions)
      if (v.eval && !byVersion.has(v.version))
        byVersion.set(v.version, { version: v.version, createdAt: v.createdAt, ...v.eval });
    return Array.from(byVersion.values()).sort((a, b) =>
      String(a.createdAt || a.version).localeCompare(String(b.createdAt || b.version)),
    );
  }

  function delta(cur, prev, kind) {
    if (prev === undefined || prev === null || cur === undefined || cur === null) return null;
    const d = (Number(cur) - Number(prev)) * (kind === 'mrr' ? 1000 : Number(cur) <= 1 ? 100 : 1);
    if (Number.isNaN(d)) return null;
    if (Math.abs(d) < 0.05) return h('span', { class: 'delta same', text: '=', 'aria-label': 'không đổi' });
    return h('span', {
      class: 'delta ' + (d > 0 ? 'up' : 'down'),
      text: (d > 0 ? '▲' : '▼') + num(Math.abs(d), 1),
      'aria-label': (d > 0 ? 'tăng ' : 'giảm ') + num(Math.abs(d), 1),
    });
  }

  function renderTrend(versions) {
    const points = trendPoints(versions);
    const tbody = document.querySelector('#kb-trend tbody');
    clear(tbody);
    points.forEach((p, i) => {
      const prev = i > 0 ? points[i - 1] : null;
      tbody.append(
        h('tr', null, [
          h('th', { scope: 'row', text: versionLabel(p.version) }),
          ...METRICS.map(([key, , kind]) =>
            h('td', null, [
              kind === 'mrr' ? num(p[key], 3) : pct1(p[key]),
              prev ? delta(p[key], prev[key], kind) : null,
            ]),
          ),
        ]),
      );
    });
    if (!points.length)
      tbody.append(
        h('tr', null, [
          h('td', {
            colspan: '6',
            class: 'empty',
            text: 'Chưa có kết quả đánh giá. Chạy npm run eval sau khi lập chỉ mục.',
          }),
        ]),
      );
    const box = $('kb-trend-chart');
    clear(box);
    if (points.length >= 2) box.append(trendChart(points));
  }

  /** A small line chart of the eval figures across versions, drawn with SVG DOM nodes. */
  function trendChart(points) {
    const NS = 'http://www.w3.org/2000/svg';
    const svgEl = (tag, attrs, text) => {
      const el = document.createElementNS(NS, tag);
      for (const k of Object.keys(attrs || {})) el.setAttribute(k, String(attrs[k]));
      if (text !== undefined) el.textContent = text;
      return el;
    };
    const series = [
      ['recallAt5', 'Recall@5', 's1'],
      ['mrr', 'MRR', 's2'],
      ['answeredInScope', 'Trả lời', 's3'],
      ['outOfScopeRejected', 'Từ chối', 's4'],
    ];
    const values = [];
    for (const p of points)
      for (const [key] of series)
        if (p[key] !== undefined && p[key] !== null)
          values.push(Number(p[key]) > 1 ? Number(p[key]) / 100 : Number(p[key]));
    const low = Math.max(0, Math.min(0.5, Math.floor(Math.min(...values) * 10) / 10));
    const W = 340;
    const H = 150;
    const L = 34;
    const R = 10;
    const T = 10;
    const B = 24;
    const x = (i) => L + (points.length === 1 ? 0 : (i * (W - L - R)) / (points.length - 1));
    const y = (v) => T + (1 - (v - low) / (1 - low || 1)) * (H - T - B);
    const svg = svgEl('svg', {
      viewBox: '0 0 ' + W + ' ' + H,
      role: 'img',
      'aria-label': 'Biểu đồ Recall@5, MRR, tỉ lệ trả lời và từ chối qua ' + points.length + ' phiên bản',
      class: 'trend',
    });
    for (const g of [low, (low + 1) / 2, 1]) {
      svg.append(svgEl('line', { x1: L, x2: W - R, y1: y(g), y2: y(g), class: 'grid' }));
      svg.append(
        svgEl('text', { x: L - 4, y: y(g) + 4, class: 'axis', 'text-anchor': 'end' }, num(g * 100, 0)),
      );
    }
    points.forEach((p, i) => {
      if (points.length <= 6 || i === 0 || i === points.length - 1)
        svg.append(
          svgEl(
            'text',
            {
              x: x(i),
              y: H - 6,
              class: 'axis',
              'text-anchor': i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle',
            },
            String(i + 1),
          ),
        );
    });
    for (const [key, , cls] of series) {
      const pts = [];
      points.forEach((p, i) => {
        if (p[key] === undefined || p[key] === null) return;
        const v = Number(p[key]) > 1 ? Number(p[key]) / 100 : Number(p[key]);
        pts.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
      });
      if (!pts.length) continue;
      svg.append(svgEl('polyline', { points: pts.join(' '), class: 'line ' + cls }));
      for (const pt of pts) {
        const [cx, cy] = pt.split(',');
        svg.append(svgEl('circle', { cx, cy, r: 2.5, class: 'dot ' + cls }));
      }
    }
    const legend = h(
      'ul',
      { class: 'legend' },
      series.map(([, name, cls]) => h('li', null, [h('span', { class: 'swatch ' + cls }), name])),
    );
    return h('figure', { class: 'trend-figure' }, [
      svg,
      h('figcaption', null, [
        legend,
        h('span', {
          class: 'sub',
          text: 'Trục ngang: phiên bản 1 → ' + points.length + ' (cũ → mới); trục dọc: %.',
        }),
      ]),
    ]);
  }

  $('kb-reindex').addEventListener('click', async (ev) => {
    setError($('kb-v-error'), '');
    let result;
    try {
      result = await busy(ev.currentTarget, () => api('POST', '/api/team/kb/reindex', {}));
    } catch (e) {
      setError($('kb-v-error'), explainKb(e));
      return;
    }
    followJob(result && result.job);
    renderJobLine();
  });

  $('kb-rollback').addEventListener('click', async (ev) => {
    const button = ev.currentTarget;
    const prev = kb.versions && kb.versions.previous;
    const answer = await confirmDialog({
      title: 'Quay lại phiên bản trước?',
      text:
        'Trợ lý sẽ dùng lại chỉ mục ' +
        (prev ? versionLabel(prev) : 'trước') +
        (kb.current ? ' thay cho ' + versionLabel(kb.current) : '') +
        '. Các tệp trong kho tri thức không đổi; lần lập chỉ mục sau sẽ dùng lại nội dung hiện tại.',
      ok: 'Quay lại',
      danger: true,
    });
    if (!answer) return;
    setError($('kb-v-error'), '');
    let result;
    try {
      result = await busy(button, () => api('POST', '/api/team/kb/rollback', prev ? { version: prev } : {}));
    } catch (e) {
      setError(
        $('kb-v-error'),
        e instanceof ApiError && e.status === 409 ? 'Không có phiên bản trước để quay lại.' : explainKb(e),
      );
      return;
    }
    const now = (result && result.current) || prev;
    kb.watching = false;
    kb.docs = null;
    await loadKbVersions();
    const box = $('kb-job');
    clearTimeout(kb.jobHideTimer);
    box.classList.remove('running', 'bad');
    box.classList.add('ok');
    $('kb-job-text').textContent =
      'Đã quay lại phiên bản ' + versionLabel(now) + '. Trợ lý đang dùng phiên bản này.';
    show(box, true);
    toast('Đã quay lại phiên bản ' + versionLabel(now) + '.', 'ok');
  });

  // Synonyms

  async function loadKbSynonyms(force) {
    if (kb.synDirty && !force) return; // keep unsaved edits when coming back to the view
    let data;
    try {
      data = await api('GET', '/api/team/kb/synonyms');
    } catch (e) {
      setError($('kb-syn-error'), explainKb(e));
      return;
    }
    $('kb-syn-text').value = (data && data.content) || '';
    kb.synDirty = false;
    showProblems($('kb-syn-error'), '', null);
  }

  function groupCount(groups) {
    if (Array.isArray(groups)) return groups.length;
    if (typeof groups === 'number') return groups;
    if (groups && typeof groups === 'object') return Object.keys(groups).length;
    return null;
  }

  $('kb-syn-text').addEventListener('input', () => {
    kb.synDirty = true;
    show($('kb-syn-result'), false);
  });
  $('kb-syn-reload').addEventListener('click', () => loadKbSynonyms(true));

  $('kb-syn-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('kb-syn-result');
    show(out, false);
    showProblems($('kb-syn-error'), '', null);
    let result;
    try {
      result = await busy(ev.submitter, () =>
        api('PUT', '/api/team/kb/synonyms', { content: $('kb-syn-text').value }),
      );
    } catch (e) {
      showProblems($('kb-syn-error'), 'Chưa lưu được: tệp YAML chưa đúng cú pháp.', e);
      $('kb-syn-text').focus();
      return;
    }
    kb.synDirty = false;
    const n = groupCount(result && result.groups);
    out.textContent =
      'Đã lưu' + (n !== null ? ' ' + n + ' nhóm từ' : '') + '. Áp dụng từ phiên bản chỉ mục tiếp theo.';
    show(out, true);
    followJob(result && result.job);
  });

  // The audit log

  const KB_ACTIONS = {
    'kb.create': 'Tạo tài liệu',
    'kb.edit': 'Sửa tài liệu',
    'kb.upload': 'Tải lên tài liệu',
    'kb.retire': 'Ngừng sử dụng tài liệu',
    'kb.reindex': 'Yêu cầu lập chỉ mục lại',
    'kb.indexed': 'Đã lập chỉ mục phiên bản mới',
    'kb.index_failed': 'Lập chỉ mục lại bị lỗi',
    'kb.rollback': 'Quay lại phiên bản chỉ mục',
    'kb.synonyms': 'Sửa từ đồng nghĩa',
    'kb.expected': 'Thêm câu hỏi đánh giá',
    'kb.promote': 'Đưa câu trả lời vào Hỏi đáp',
  };
  const DETAIL_KEYS = {
    file: 'tệp',
    chars: 'ký tự',
    reason: 'lý do',
    from: 'từ phiên bản',
    previous: 'phiên bản trước',
    documents: 'tài liệu',
    chunks: 'đoạn',
    seconds: 'giây',
    groups: 'nhóm từ',
    q: 'câu hỏi',
    docId: 'tài liệu',
    original: 'tệp gốc lưu ở',
    filename: 'tên tệp',
    bytes: 'byte',
    type: 'dạng',
    kind: 'loại',
    retiredTo: 'chuyển tới',
    error: 'lỗi',
  };

  function actionLabel(action) {
    return KB_ACTIONS[action] || action || '—';
  }

  /** The detail of an audit entry as short Vietnamese facts (the version first). */
  function detailText(detail) {
    if (detail === null || detail === undefined || detail === '') return '';
    if (typeof detail !== 'object') return String(detail);
    const parts = [];
    const version = detail.version || detail.indexVersion;
    if (version) parts.push('phiên bản ' + versionLabel(version));
    for (const key of Object.keys(detail)) {
      const v = detail[key];
      if (key === 'version' || key === 'indexVersion') continue;
      if (v === null || v === undefined || v === '' || typeof v === 'object') continue;
      const name = DETAIL_KEYS[key] || key;
      if (key === 'from' || key === 'previous') parts.push(name + ' ' + versionLabel(v));
      else if (key === 'error' || key === 'reason') parts.push(name + ': ' + v);
      else if (typeof v === 'number') parts.push(v.toLocaleString('vi-VN') + ' ' + name);
      else parts.push(name + ' ' + v);
    }
    return parts.join(' · ');
  }

  /** The changes a re-index included ("kb.indexed", "kb.index_failed"). */
  function changesText(detail) {
    const changes = detail && Array.isArray(detail.changes) ? detail.changes : [];
    return changes
      .map((c) => [actionLabel(c.action), c.target, c.by ? '(' + c.by + ')' : ''].filter(Boolean).join(' '))
      .join('; ');
  }

  async function loadKbAudit() {
    let data;
    try {
      data = await api('GET', '/api/team/kb/audit');
      setError($('kb-audit-error'), '');
    } catch (e) {
      setError($('kb-audit-error'), explainKb(e));
      return;
    }
    const entries = (data && (data.entries || data.items)) || [];
    const list = $('kb-audit-list');
    clear(list);
    for (const e of entries) {
      const at = e.at || e.createdAt;
      const detail = detailText(e.detail);
      list.append(
        h('li', { class: 'card audit-entry' }, [
          h('p', { class: 'text' }, [
            h('b', { text: actionLabel(e.action) }),
            e.target ? ' — ' + e.target : '',
          ]),
          h('p', {
            class: 'sub',
            text: [e.actorName || e.actorId || 'Hệ thống', when(at)].filter(Boolean).join(' · '),
          }),
          detail ? h('p', { class: 'sub', text: detail }) : null,
          changesText(e.detail) ? h('p', { class: 'sub', text: 'Gồm: ' + changesText(e.detail) }) : null,
          h('p', { class: 'sub code-ish', text: e.action || '' }),
        ]),
      );
    }
    if (!entries.length) list.append(h('li', { class: 'empty', text: 'Chưa có thay đổi nào.' }));
  }
  $('kb-audit-reload').addEventListener('click', loadKbAudit);

  /** Sign out: nothing of the console stays in the page. */
  function resetKb() {
    clearTimeout(kb.jobTimer);
    clearTimeout(kb.jobHideTimer);
    Object.assign(kb, {
      docs: null,
      docId: null,
      doc: null,
      editorDirty: false,
      hit: null,
      versions: null,
      current: null,
      job: null,
      watching: false,
      synDirty: false,
      newTouched: false,
      evalRuns: [],
    });
    kb.docsSeq++;
    kb.docSeq++;
    kb.hitSeq++;
    for (const id of [
      'kb-doc-list',
      'kb-retired',
      'kb-doc-badges',
      'kb-doc-meta',
      'kb-chunks',
      'kb-hit-query',
      'kb-hit-expansions',
      'kb-hit-confidence',
      'kb-hit-answer',
      'kb-hit-fused',
      'kb-audit-list',
      'kb-trend-chart',
      'kb-pick-doc',
    ])
      clear($(id));
    $('kb-hit-status').textContent = '';
    for (const leg of LEG_ORDER) clear($('kb-leg-' + leg).querySelector('ol'));
    for (const sel of ['#kb-v-table tbody', '#kb-trend tbody']) clear(document.querySelector(sel));
    for (const id of ['kb-editor-text', 'kb-syn-text', 'kb-n-content', 'kb-hit-q', 'kb-f-q'])
      $(id).value = '';
    $('kb-upload').reset();
    $('kb-new').reset();
    $('kb-doc-title').textContent = '';
    $('kb-docs-summary').textContent = '';
    $('kb-v-job').textContent = '';
    for (const id of [
      'kb-job',
      'kb-hit-result',
      'kb-doc-card',
      'kb-editor-box',
      'kb-chunks-box',
      'kb-u-result',
    ])
      show($(id), false);
    for (const id of [
      'kb-docs-error',
      'kb-doc-error',
      'kb-hit-error',
      'kb-v-error',
      'kb-audit-error',
      'kb-u-error',
    ])
      setError($(id), '');
    showProblems($('kb-syn-error'), '', null);
    showProblems($('kb-editor-error'), '', null);
    showProblems($('kb-n-error'), '', null);
    const dlg = $('confirm-dialog');
    if (dlg && dlg.open) dlg.close();
  }

  // ---------- start ----------

  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).catch((e) => {
      if (e instanceof ApiError && e.status === 401)
        signOut('Mã đã lưu không còn dùng được. Bạn đăng nhập lại nhé.');
      else {
        // The server is unreachable: keep the token and show the error on the sign-in form.
        show($('signin'), true);
        $('token').value = saved;
        setError($('signin-error'), explain(e));
      }
    });
  } else {
    show($('signin'), true);
  }
})();
