// The citizen chat page: Bot Framework Web Chat over our own Direct Line endpoint.
// The citizen's id and conversation are kept in this browser, so a reload (or a visit days later)
// shows the history and any answer the community team sent meanwhile.
(function () {
  'use strict';
  var STORE_KEY = 'tlcds.webchat.v1';
  var LARGE_KEY = 'tlcds.webchat.large';
  var body = document.body;
  var primary = body.getAttribute('data-primary-color') || '#0b5fa5';
  document.documentElement.style.setProperty('--brand', primary);

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ('0' + b.toString(16)).slice(-2);
      })
      .join('');
  }

  function load() {
    try {
      return JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
    } catch {
      return null;
    }
  }

  function showStatus(text) {
    var el = document.getElementById('status');
    el.textContent = text;
    el.hidden = false;
  }

  async function connect() {
    var saved = load();
    var userID = (saved && saved.userID) || 'citizen-' + randomId();
    var token, conversationId;
    var resumed = false;
    if (saved && saved.token && saved.conversationId) {
      var refreshed = await fetch('/v3/directline/tokens/refresh', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + saved.token },
      });
      if (refreshed.ok) {
        var r = await refreshed.json();
        token = r.token;
        conversationId = r.conversationId;
        resumed = true;
      }
    }
    if (!token) {
      var generated = await fetch('/v3/directline/tokens/generate', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: { id: userID } }),
      });
      if (!generated.ok) throw new Error('token ' + generated.status);
      var g = await generated.json();
      token = g.token;
      conversationId = g.conversationId;
    }
    localStorage.setItem(
      STORE_KEY,
      JSON.stringify({ userID: userID, token: token, conversationId: conversationId }),
    );
    var directLine = window.WebChat.createDirectLine({
      domain: location.origin + '/v3/directline',
      token: token,
      // A known conversation is resumed (history replayed); a new one is started (welcome).
      conversationId: resumed ? conversationId : undefined,
      webSocket: true,
    });
    return { directLine: directLine, userID: userID };
  }

  function render(connection, large) {
    document.getElementById('webchat').classList.toggle('large', large);
    window.WebChat.renderWebChat(
      {
        directLine: connection.directLine,
        userID: connection.userID,
        username: 'Công dân',
        locale: 'vi-VN',
        styleOptions: {
          hideUploadButton: true,
          botAvatarInitials: 'TL',
          userAvatarInitials: 'Bạn',
          accent: primary,
          bubbleBorderRadius: 12,
          bubbleFromUserBackground: '#e8f1fb',
          bubbleFromUserBorderRadius: 12,
          suggestedActionLayout: 'flow',
          suggestedActionBorderRadius: 18,
          suggestedActionHeight: 44,
          sendBoxHeight: 52,
          primaryFont: "'Segoe UI', Roboto, Arial, sans-serif",
        },
      },
      document.getElementById('webchat'),
    );
  }

  var button = document.getElementById('large-text');
  var large = localStorage.getItem(LARGE_KEY) === '1';
  button.setAttribute('aria-pressed', String(large));

  connect().then(
    function (connection) {
      render(connection, large);
      button.addEventListener('click', function () {
        large = !large;
        localStorage.setItem(LARGE_KEY, large ? '1' : '0');
        button.setAttribute('aria-pressed', String(large));
        render(connection, large);
      });
    },
    function () {
      showStatus('Không kết nối được với trợ lý. Bạn vui lòng tải lại trang sau ít phút.');
    },
  );
})();
