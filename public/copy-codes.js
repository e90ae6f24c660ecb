// The "Copy" button next to new recovery codes. Progressive: without JavaScript the button stays
// hidden and the codes are still on the page and in the Download file.
(function () {
  'use strict';

  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return true;
        },
        function () {
          return fallbackCopy(text);
        },
      );
    }
    return Promise.resolve(fallbackCopy(text));
  }

  function init() {
    var buttons = document.querySelectorAll('button[data-copy-text]');
    Array.prototype.forEach.call(buttons, function (button) {
      var status = document.getElementById(button.getAttribute('data-copy-status') || '');
      button.hidden = false;
      button.addEventListener('click', function () {
        copy(button.getAttribute('data-copy-text') || '').then(function (ok) {
          if (status) status.textContent = ok ? 'Copied to the clipboard.' : 'Could not copy. Select the codes and copy them by hand.';
        });
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
