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
    for (const id of ['inbox', 'detail', 'feedback', 'trends', 'members']) show($(id), false);
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
    // #/inbox, #/questions/<id> (also the link of the commune webhook), #/feedback, #/trends, #/members
    const hash = location.hash.replace(/^#\/?/, '');
    let tab = 'inbox';
    let questionId = null;
    if (hash.startsWith('questions/')) questionId = decodeURIComponent(hash.slice('questions/'.length));
    else if (['feedback', 'trends', 'members'].includes(hash) && isAdmin()) tab = hash;
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
